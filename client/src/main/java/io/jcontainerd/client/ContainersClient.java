package io.jcontainerd.client;

import static io.jcontainerd.client.ClientException.call;

import com.google.protobuf.Any;
import io.grpc.Channel;
import io.jcontainerd.api.services.containers.v1.ContainersGrpc;
import io.jcontainerd.api.services.containers.v1.CreateContainerRequest;
import io.jcontainerd.api.services.containers.v1.DeleteContainerRequest;
import io.jcontainerd.api.services.containers.v1.GetContainerRequest;
import io.jcontainerd.api.services.containers.v1.ListContainersRequest;
import io.jcontainerd.api.services.containers.v1.UpdateContainerRequest;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** containerd.services.containers.v1.Containers: container metadata records. */
public final class ContainersClient {
    private final ContainersGrpc.ContainersBlockingStub stub;

    ContainersClient(Channel channel) {
        this.stub = ContainersGrpc.newBlockingStub(channel);
    }

    /** A container record; {@code spec} is the OCI runtime spec as an Any (containerd's types.Any). */
    public record Container(String id, Map<String, String> labels, String image, String runtime, Any runtimeOptions,
                            Any spec, String snapshotter, String snapshotKey, Instant createdAt, Instant updatedAt,
                            Map<String, Any> extensions) {
        public Container {
            labels = labels == null ? Map.of() : Map.copyOf(labels);
            extensions = extensions == null ? Map.of() : Map.copyOf(extensions);
        }

        public static Container of(String id, String image, String runtime, Any spec, String snapshotter, String snapshotKey) {
            return new Container(id, Map.of(), image, runtime, null, spec, snapshotter, snapshotKey, null, null, Map.of());
        }
    }

    static Container of(io.jcontainerd.api.services.containers.v1.Container c) {
        return new Container(c.getId(), c.getLabelsMap(), c.getImage(), c.getRuntime().getName(),
                c.getRuntime().hasOptions() ? c.getRuntime().getOptions() : null, c.hasSpec() ? c.getSpec() : null,
                c.getSnapshotter(), c.getSnapshotKey(), Protos.instant(c.getCreatedAt()), Protos.instant(c.getUpdatedAt()),
                c.getExtensionsMap());
    }

    static io.jcontainerd.api.services.containers.v1.Container proto(Container c) {
        var rt = io.jcontainerd.api.services.containers.v1.Container.Runtime.newBuilder().setName(c.runtime() == null ? "" : c.runtime());
        if (c.runtimeOptions() != null) rt.setOptions(c.runtimeOptions());
        var b = io.jcontainerd.api.services.containers.v1.Container.newBuilder().setId(c.id()).putAllLabels(c.labels())
                .setImage(c.image() == null ? "" : c.image()).setRuntime(rt)
                .setSnapshotter(c.snapshotter() == null ? "" : c.snapshotter())
                .setSnapshotKey(c.snapshotKey() == null ? "" : c.snapshotKey()).putAllExtensions(c.extensions());
        if (c.spec() != null) b.setSpec(c.spec());
        return b.build();
    }

    public Container get(String id) {
        return of(call(() -> stub.get(GetContainerRequest.newBuilder().setId(id).build())).getContainer());
    }

    public List<Container> list(String... filters) {
        return call(() -> stub.list(ListContainersRequest.newBuilder().addAllFilters(List.of(filters)).build()))
                .getContainersList().stream().map(ContainersClient::of).toList();
    }

    public Container create(Container c) {
        return of(call(() -> stub.create(CreateContainerRequest.newBuilder().setContainer(proto(c)).build())).getContainer());
    }

    /** Updates the given field paths (labels, labels.k, image, spec, snapshot_key, extensions, ...). */
    public Container update(Container c, String... fields) {
        return of(call(() -> stub.update(UpdateContainerRequest.newBuilder().setContainer(proto(c))
                .setUpdateMask(Protos.mask(List.of(fields))).build())).getContainer());
    }

    public void delete(String id) {
        call(() -> stub.delete(DeleteContainerRequest.newBuilder().setId(id).build()));
    }
}
