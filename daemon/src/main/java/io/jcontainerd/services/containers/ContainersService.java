package io.jcontainerd.services.containers;

import com.google.protobuf.Empty;
import io.grpc.stub.StreamObserver;
import io.jcontainerd.api.events.ContainerCreate;
import io.jcontainerd.api.events.ContainerDelete;
import io.jcontainerd.api.events.ContainerUpdate;
import io.jcontainerd.api.services.containers.v1.Container;
import io.jcontainerd.api.services.containers.v1.ContainersGrpc;
import io.jcontainerd.api.services.containers.v1.CreateContainerRequest;
import io.jcontainerd.api.services.containers.v1.CreateContainerResponse;
import io.jcontainerd.api.services.containers.v1.DeleteContainerRequest;
import io.jcontainerd.api.services.containers.v1.GetContainerRequest;
import io.jcontainerd.api.services.containers.v1.GetContainerResponse;
import io.jcontainerd.api.services.containers.v1.ListContainerMessage;
import io.jcontainerd.api.services.containers.v1.ListContainersRequest;
import io.jcontainerd.api.services.containers.v1.ListContainersResponse;
import io.jcontainerd.api.services.containers.v1.UpdateContainerRequest;
import io.jcontainerd.api.services.containers.v1.UpdateContainerResponse;
import io.jcontainerd.events.Publisher;
import io.jcontainerd.filters.Filter;
import io.jcontainerd.metadata.MetadataDb;
import io.jcontainerd.namespaces.Namespaces;
import io.jcontainerd.plugin.GrpcService;
import io.jcontainerd.plugin.PluginProvider;
import io.jcontainerd.plugin.PluginType;
import io.jcontainerd.plugin.Registration;
import java.util.List;

/** containerd.services.containers.v1.Containers over the metadata database. */
public final class ContainersService extends ContainersGrpc.ContainersImplBase implements GrpcService {

    private final MetadataDb db;
    private final Publisher events;

    ContainersService(MetadataDb db, Publisher events) {
        this.db = db;
        this.events = events;
    }

    @Override
    public void get(GetContainerRequest req, StreamObserver<GetContainerResponse> out) {
        String ns = Namespaces.required();
        Container c = db.read(tx -> db.containers(tx, ns).get(req.getId()));
        out.onNext(GetContainerResponse.newBuilder().setContainer(c).build());
        out.onCompleted();
    }

    @Override
    public void list(ListContainersRequest req, StreamObserver<ListContainersResponse> out) {
        String ns = Namespaces.required();
        Filter filter = Filter.parseAll(req.getFiltersList());
        List<Container> all = db.read(tx -> db.containers(tx, ns).list(filter));
        out.onNext(ListContainersResponse.newBuilder().addAllContainers(all).build());
        out.onCompleted();
    }

    /** One message per container, so a large listing never hits the message size limit. */
    @Override
    public void listStream(ListContainersRequest req, StreamObserver<ListContainerMessage> out) {
        String ns = Namespaces.required();
        Filter filter = Filter.parseAll(req.getFiltersList());
        List<Container> all = db.read(tx -> db.containers(tx, ns).list(filter));
        for (Container c : all) out.onNext(ListContainerMessage.newBuilder().setContainer(c).build());
        out.onCompleted();
    }

    @Override
    public void create(CreateContainerRequest req, StreamObserver<CreateContainerResponse> out) {
        String ns = Namespaces.required();
        Container c = db.update(tx -> db.containers(tx, ns).create(req.getContainer()));
        ContainerCreate.Runtime.Builder rt = ContainerCreate.Runtime.newBuilder().setName(c.getRuntime().getName());
        if (c.getRuntime().hasOptions()) rt.setOptions(c.getRuntime().getOptions());
        events.publish(ns, "/containers/create", ContainerCreate.newBuilder().setId(c.getId()).setImage(c.getImage()).setRuntime(rt).build());
        out.onNext(CreateContainerResponse.newBuilder().setContainer(c).build());
        out.onCompleted();
    }

    @Override
    public void update(UpdateContainerRequest req, StreamObserver<UpdateContainerResponse> out) {
        String ns = Namespaces.required();
        List<String> paths = req.hasUpdateMask() ? req.getUpdateMask().getPathsList() : List.of();
        Container c = db.update(tx -> db.containers(tx, ns).update(req.getContainer(), paths));
        events.publish(ns, "/containers/update", ContainerUpdate.newBuilder().setId(c.getId()).setImage(c.getImage())
                .putAllLabels(c.getLabelsMap()).setSnapshotKey(c.getSnapshotKey()).build());
        out.onNext(UpdateContainerResponse.newBuilder().setContainer(c).build());
        out.onCompleted();
    }

    @Override
    public void delete(DeleteContainerRequest req, StreamObserver<Empty> out) {
        String ns = Namespaces.required();
        db.update(tx -> {
            db.containers(tx, ns).delete(req.getId());
            return null;
        });
        db.gcTrigger().dirty(); // its snapshot may now be unreferenced
        events.publish(ns, "/containers/delete", ContainerDelete.newBuilder().setId(req.getId()).build());
        out.onNext(Empty.getDefaultInstance());
        out.onCompleted();
    }

    public static final class Provider implements PluginProvider {
        @Override
        public List<Registration> registrations() {
            return List.of(Registration.of(PluginType.GRPC, "containers", List.of(PluginType.METADATA),
                    ic -> new ContainersService(ic.plugins().single(PluginType.METADATA, MetadataDb.class), ic.events())));
        }
    }
}
