package io.jcontainerd.client;

import static io.jcontainerd.client.ClientException.call;

import io.grpc.Channel;
import io.jcontainerd.api.services.leases.v1.AddResourceRequest;
import io.jcontainerd.api.services.leases.v1.CreateRequest;
import io.jcontainerd.api.services.leases.v1.DeleteRequest;
import io.jcontainerd.api.services.leases.v1.DeleteResourceRequest;
import io.jcontainerd.api.services.leases.v1.LeasesGrpc;
import io.jcontainerd.api.services.leases.v1.ListRequest;
import io.jcontainerd.api.services.leases.v1.ListResourcesRequest;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/** containerd.services.leases.v1.Leases: leases protect content and snapshots from the collector. */
public final class LeasesClient {
    private static final SecureRandom RANDOM = new SecureRandom();
    private final LeasesGrpc.LeasesBlockingStub stub;

    LeasesClient(Channel channel) {
        this.stub = LeasesGrpc.newBlockingStub(channel);
    }

    public record Lease(String id, Instant createdAt, Map<String, String> labels) {}

    /** A leased resource: type {@code content}, {@code snapshots/<snapshotter>}, {@code ingests}. */
    public record Resource(String id, String type) {}

    /** Creates a lease; a null id gets a random one (containerd's generated lease ids are similar). */
    public Lease create(String id, Map<String, String> labels) {
        String leaseId = id != null ? id : randomId();
        var l = call(() -> stub.create(CreateRequest.newBuilder().setId(leaseId).putAllLabels(labels).build())).getLease();
        return new Lease(l.getId(), Protos.instant(l.getCreatedAt()), Map.copyOf(l.getLabelsMap()));
    }

    static String randomId() {
        byte[] b = new byte[8];
        RANDOM.nextBytes(b);
        return System.currentTimeMillis() + "-" + HexFormat.of().formatHex(b);
    }

    /** Deletes the lease; {@code sync} waits for the collection it triggers. */
    public void delete(String id, boolean sync) {
        call(() -> stub.delete(DeleteRequest.newBuilder().setId(id).setSync(sync).build()));
    }

    public List<Lease> list(String... filters) {
        return call(() -> stub.list(ListRequest.newBuilder().addAllFilters(List.of(filters)).build())).getLeasesList()
                .stream().map(l -> new Lease(l.getId(), Protos.instant(l.getCreatedAt()), Map.copyOf(l.getLabelsMap()))).toList();
    }

    public void addResource(String lease, Resource r) {
        call(() -> stub.addResource(AddResourceRequest.newBuilder().setId(lease).setResource(proto(r)).build()));
    }

    public void deleteResource(String lease, Resource r) {
        call(() -> stub.deleteResource(DeleteResourceRequest.newBuilder().setId(lease).setResource(proto(r)).build()));
    }

    public List<Resource> listResources(String lease) {
        return call(() -> stub.listResources(ListResourcesRequest.newBuilder().setId(lease).build())).getResourcesList()
                .stream().map(r -> new Resource(r.getId(), r.getType())).toList();
    }

    private static io.jcontainerd.api.services.leases.v1.Resource proto(Resource r) {
        return io.jcontainerd.api.services.leases.v1.Resource.newBuilder().setId(r.id()).setType(r.type()).build();
    }
}
