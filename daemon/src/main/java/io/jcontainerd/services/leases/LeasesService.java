package io.jcontainerd.services.leases;

import com.google.protobuf.Empty;
import io.grpc.stub.StreamObserver;
import io.jcontainerd.api.services.leases.v1.AddResourceRequest;
import io.jcontainerd.api.services.leases.v1.CreateRequest;
import io.jcontainerd.api.services.leases.v1.CreateResponse;
import io.jcontainerd.api.services.leases.v1.DeleteRequest;
import io.jcontainerd.api.services.leases.v1.DeleteResourceRequest;
import io.jcontainerd.api.services.leases.v1.LeasesGrpc;
import io.jcontainerd.api.services.leases.v1.ListRequest;
import io.jcontainerd.api.services.leases.v1.ListResourcesRequest;
import io.jcontainerd.api.services.leases.v1.ListResourcesResponse;
import io.jcontainerd.api.services.leases.v1.ListResponse;
import io.jcontainerd.leases.Lease;
import io.jcontainerd.leases.LeaseManager;
import io.jcontainerd.leases.Resource;
import io.jcontainerd.namespaces.Namespaces;
import io.jcontainerd.plugin.GrpcService;
import io.jcontainerd.plugin.PluginProvider;
import io.jcontainerd.protobuf.Timestamps;
import io.jcontainerd.plugin.PluginType;
import io.jcontainerd.plugin.Registration;
import java.util.List;

/** containerd.services.leases.v1.Leases over the {@link LeaseManager}, in the request's namespace. */
public final class LeasesService extends LeasesGrpc.LeasesImplBase implements GrpcService {
    private final LeaseManager leases;

    LeasesService(LeaseManager leases) {
        this.leases = leases;
    }

    @Override
    public void create(CreateRequest req, StreamObserver<CreateResponse> out) {
        Lease l = leases.create(Namespaces.required(), req.getId(), req.getLabelsMap());
        out.onNext(CreateResponse.newBuilder().setLease(toProto(l)).build());
        out.onCompleted();
    }

    @Override
    public void delete(DeleteRequest req, StreamObserver<Empty> out) {
        leases.delete(Namespaces.required(), req.getId(), req.getSync());
        out.onNext(Empty.getDefaultInstance());
        out.onCompleted();
    }

    @Override
    public void list(ListRequest req, StreamObserver<ListResponse> out) {
        ListResponse.Builder resp = ListResponse.newBuilder();
        for (Lease l : leases.list(Namespaces.required(), req.getFiltersList())) resp.addLeases(toProto(l));
        out.onNext(resp.build());
        out.onCompleted();
    }

    @Override
    public void addResource(AddResourceRequest req, StreamObserver<Empty> out) {
        leases.addResource(Namespaces.required(), req.getId(), new Resource(req.getResource().getId(), req.getResource().getType()));
        out.onNext(Empty.getDefaultInstance());
        out.onCompleted();
    }

    @Override
    public void deleteResource(DeleteResourceRequest req, StreamObserver<Empty> out) {
        leases.deleteResource(Namespaces.required(), req.getId(), new Resource(req.getResource().getId(), req.getResource().getType()));
        out.onNext(Empty.getDefaultInstance());
        out.onCompleted();
    }

    @Override
    public void listResources(ListResourcesRequest req, StreamObserver<ListResourcesResponse> out) {
        ListResourcesResponse.Builder resp = ListResourcesResponse.newBuilder();
        for (Resource r : leases.listResources(Namespaces.required(), req.getId())) {
            resp.addResources(io.jcontainerd.api.services.leases.v1.Resource.newBuilder().setId(r.id()).setType(r.type()));
        }
        out.onNext(resp.build());
        out.onCompleted();
    }

    private static io.jcontainerd.api.services.leases.v1.Lease toProto(Lease l) {
        return io.jcontainerd.api.services.leases.v1.Lease.newBuilder()
                .setId(l.id())
                .setCreatedAt(Timestamps.of(l.createdAt()))
                .putAllLabels(l.labels())
                .build();
    }

    public static final class Provider implements PluginProvider {
        @Override
        public List<Registration> registrations() {
            return List.of(Registration.of(PluginType.GRPC, "leases", List.of(PluginType.LEASE),
                    ic -> new LeasesService(ic.plugins().get(PluginType.LEASE, "manager", LeaseManager.class))));
        }
    }
}
