package io.jcontainerd.client;

import static io.jcontainerd.client.ClientException.call;

import io.grpc.Channel;
import io.jcontainerd.api.services.snapshots.v1.CleanupRequest;
import io.jcontainerd.api.services.snapshots.v1.CommitSnapshotRequest;
import io.jcontainerd.api.services.snapshots.v1.ListSnapshotsRequest;
import io.jcontainerd.api.services.snapshots.v1.MountsRequest;
import io.jcontainerd.api.services.snapshots.v1.PrepareSnapshotRequest;
import io.jcontainerd.api.services.snapshots.v1.RemoveSnapshotRequest;
import io.jcontainerd.api.services.snapshots.v1.SnapshotsGrpc;
import io.jcontainerd.api.services.snapshots.v1.StatSnapshotRequest;
import io.jcontainerd.api.services.snapshots.v1.UpdateSnapshotRequest;
import io.jcontainerd.api.services.snapshots.v1.UsageRequest;
import io.jcontainerd.api.services.snapshots.v1.ViewSnapshotRequest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** containerd.services.snapshots.v1.Snapshots, bound to one snapshotter. */
public final class SnapshotsClient {
    private final SnapshotsGrpc.SnapshotsBlockingStub stub;
    private final String snapshotter;

    SnapshotsClient(Channel channel, String snapshotter) {
        this.stub = SnapshotsGrpc.newBlockingStub(channel);
        this.snapshotter = snapshotter;
    }

    public enum Kind { UNKNOWN, VIEW, ACTIVE, COMMITTED }

    public record Info(String name, String parent, Kind kind, Instant createdAt, Instant updatedAt, Map<String, String> labels) {}

    public record Usage(long size, long inodes) {}

    static Info of(io.jcontainerd.api.services.snapshots.v1.Info i) {
        Kind k = switch (i.getKind()) {
            case VIEW -> Kind.VIEW;
            case ACTIVE -> Kind.ACTIVE;
            case COMMITTED -> Kind.COMMITTED;
            default -> Kind.UNKNOWN;
        };
        return new Info(i.getName(), i.getParent(), k, Protos.instant(i.getCreatedAt()), Protos.instant(i.getUpdatedAt()),
                Map.copyOf(i.getLabelsMap()));
    }

    public String snapshotter() {
        return snapshotter;
    }

    /** An active snapshot {@code key} on top of {@code parent} (empty: none); returns its mounts. */
    public List<Mount> prepare(String key, String parent, Map<String, String> labels) {
        return Mount.of(call(() -> stub.prepare(PrepareSnapshotRequest.newBuilder().setSnapshotter(snapshotter)
                .setKey(key).setParent(parent == null ? "" : parent).putAllLabels(labels).build())).getMountsList());
    }

    /** A read-only view of {@code parent}. */
    public List<Mount> view(String key, String parent, Map<String, String> labels) {
        return Mount.of(call(() -> stub.view(ViewSnapshotRequest.newBuilder().setSnapshotter(snapshotter)
                .setKey(key).setParent(parent == null ? "" : parent).putAllLabels(labels).build())).getMountsList());
    }

    public List<Mount> mounts(String key) {
        return Mount.of(call(() -> stub.mounts(MountsRequest.newBuilder().setSnapshotter(snapshotter).setKey(key).build()))
                .getMountsList());
    }

    public void commit(String name, String key, Map<String, String> labels) {
        call(() -> stub.commit(CommitSnapshotRequest.newBuilder().setSnapshotter(snapshotter).setName(name).setKey(key)
                .putAllLabels(labels).build()));
    }

    public void remove(String key) {
        call(() -> stub.remove(RemoveSnapshotRequest.newBuilder().setSnapshotter(snapshotter).setKey(key).build()));
    }

    public Info stat(String key) {
        return of(call(() -> stub.stat(StatSnapshotRequest.newBuilder().setSnapshotter(snapshotter).setKey(key).build()))
                .getInfo());
    }

    /** True when {@code key} exists. */
    public boolean exists(String key) {
        try {
            stat(key);
            return true;
        } catch (ClientException e) {
            if (e.isNotFound()) return false;
            throw e;
        }
    }

    /** Updates labels ({@code labels.<k>} field paths, or none for all). */
    public Info update(String key, Map<String, String> labels, String... fields) {
        var info = io.jcontainerd.api.services.snapshots.v1.Info.newBuilder().setName(key).putAllLabels(labels);
        return of(call(() -> stub.update(UpdateSnapshotRequest.newBuilder().setSnapshotter(snapshotter).setInfo(info)
                .setUpdateMask(Protos.mask(List.of(fields))).build())).getInfo());
    }

    public List<Info> list(String... filters) {
        return call(() -> {
            List<Info> out = new ArrayList<>();
            stub.list(ListSnapshotsRequest.newBuilder().setSnapshotter(snapshotter).addAllFilters(List.of(filters)).build())
                    .forEachRemaining(r -> r.getInfoList().forEach(i -> out.add(of(i))));
            return out;
        });
    }

    public Usage usage(String key) {
        var r = call(() -> stub.usage(UsageRequest.newBuilder().setSnapshotter(snapshotter).setKey(key).build()));
        return new Usage(r.getSize(), r.getInodes());
    }

    public void cleanup() {
        call(() -> stub.cleanup(CleanupRequest.newBuilder().setSnapshotter(snapshotter).build()));
    }
}
