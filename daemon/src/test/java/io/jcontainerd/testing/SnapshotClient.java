package io.jcontainerd.testing;

import static io.jcontainerd.testing.DaemonProcess.inNamespace;

import com.google.protobuf.FieldMask;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.jcontainerd.api.services.diff.v1.ApplyRequest;
import io.jcontainerd.api.services.diff.v1.DiffGrpc;
import io.jcontainerd.api.services.diff.v1.DiffRequest;
import io.jcontainerd.api.services.leases.v1.CreateRequest;
import io.jcontainerd.api.services.leases.v1.LeasesGrpc;
import io.jcontainerd.api.services.snapshots.v1.CommitSnapshotRequest;
import io.jcontainerd.api.services.snapshots.v1.Info;
import io.jcontainerd.api.services.snapshots.v1.ListSnapshotsRequest;
import io.jcontainerd.api.services.snapshots.v1.MountsRequest;
import io.jcontainerd.api.services.snapshots.v1.PrepareSnapshotRequest;
import io.jcontainerd.api.services.snapshots.v1.RemoveSnapshotRequest;
import io.jcontainerd.api.services.snapshots.v1.SnapshotsGrpc;
import io.jcontainerd.api.services.snapshots.v1.StatSnapshotRequest;
import io.jcontainerd.api.services.snapshots.v1.UpdateSnapshotRequest;
import io.jcontainerd.api.services.snapshots.v1.UsageRequest;
import io.jcontainerd.api.services.snapshots.v1.UsageResponse;
import io.jcontainerd.api.services.snapshots.v1.ViewSnapshotRequest;
import io.jcontainerd.api.types.Descriptor;
import io.jcontainerd.api.types.Mount;
import io.jcontainerd.mount.Mounts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The Snapshots and Diff services of a running daemon, for one snapshotter in one namespace, every call
 * under one lease (so the garbage collector never takes what a test is still using).
 */
public final class SnapshotClient {
    public static final String LAYER_TAR = "application/vnd.oci.image.layer.v1.tar";
    public static final String LAYER_TAR_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";

    private final DaemonProcess daemon;
    private final String snapshotter;
    private final String namespace;
    private final String lease;

    public SnapshotClient(DaemonProcess daemon, String snapshotter, String namespace) {
        this.daemon = daemon;
        this.snapshotter = snapshotter;
        this.namespace = namespace;
        this.lease = inNamespace(LeasesGrpc.newBlockingStub(daemon.channel()), namespace)
                .create(CreateRequest.getDefaultInstance()).getLease().getId();
    }

    public String snapshotter() {
        return snapshotter;
    }

    public String namespace() {
        return namespace;
    }

    public SnapshotsGrpc.SnapshotsBlockingStub snapshots() {
        return inNamespace(SnapshotsGrpc.newBlockingStub(daemon.channel()), namespace, lease);
    }

    public DiffGrpc.DiffBlockingStub diff() {
        return inNamespace(DiffGrpc.newBlockingStub(daemon.channel()), namespace, lease);
    }

    public List<Mount> prepare(String key, String parent) {
        return prepare(key, parent, Map.of());
    }

    public List<Mount> prepare(String key, String parent, Map<String, String> labels) {
        return snapshots().prepare(PrepareSnapshotRequest.newBuilder().setSnapshotter(snapshotter).setKey(key)
                .setParent(parent).putAllLabels(labels).build()).getMountsList();
    }

    public List<Mount> view(String key, String parent) {
        return snapshots().view(ViewSnapshotRequest.newBuilder().setSnapshotter(snapshotter).setKey(key)
                .setParent(parent).build()).getMountsList();
    }

    public List<Mount> mounts(String key) {
        return snapshots().mounts(MountsRequest.newBuilder().setSnapshotter(snapshotter).setKey(key).build()).getMountsList();
    }

    public void commit(String name, String key) {
        commit(name, key, Map.of());
    }

    public void commit(String name, String key, Map<String, String> labels) {
        snapshots().commit(CommitSnapshotRequest.newBuilder().setSnapshotter(snapshotter).setName(name).setKey(key)
                .putAllLabels(labels).build());
    }

    public void remove(String key) {
        snapshots().remove(RemoveSnapshotRequest.newBuilder().setSnapshotter(snapshotter).setKey(key).build());
    }

    public Info stat(String key) {
        return snapshots().stat(StatSnapshotRequest.newBuilder().setSnapshotter(snapshotter).setKey(key).build()).getInfo();
    }

    public UsageResponse usage(String key) {
        return snapshots().usage(UsageRequest.newBuilder().setSnapshotter(snapshotter).setKey(key).build());
    }

    public Info update(String name, Map<String, String> labels, String... paths) {
        UpdateSnapshotRequest.Builder b = UpdateSnapshotRequest.newBuilder().setSnapshotter(snapshotter)
                .setInfo(Info.newBuilder().setName(name).putAllLabels(labels));
        if (paths.length > 0) b.setUpdateMask(FieldMask.newBuilder().addAllPaths(List.of(paths)));
        return snapshots().update(b.build()).getInfo();
    }

    /** Names of the snapshots List returns for {@code filters}, in the order they came. */
    public List<String> list(String... filters) {
        List<String> names = new ArrayList<>();
        snapshots().list(ListSnapshotsRequest.newBuilder().setSnapshotter(snapshotter).addAllFilters(List.of(filters)).build())
                .forEachRemaining(r -> r.getInfoList().forEach(i -> names.add(i.getName())));
        return names;
    }

    /** Uploads {@code blob} under the lease; returns its digest. */
    public String upload(byte[] blob) throws Exception {
        return ContentUpload.upload(daemon.channel(), namespace, lease, blob);
    }

    /** Uploads a layer and applies it onto {@code mounts} through Diff.Apply; returns the applied descriptor. */
    public Descriptor apply(byte[] blob, String mediaType, List<Mount> mounts) throws Exception {
        String digest = upload(blob);
        return diff().apply(ApplyRequest.newBuilder().setDiff(Descriptor.newBuilder().setMediaType(mediaType)
                .setDigest(digest).setSize(blob.length)).addAllMounts(mounts).build()).getApplied();
    }

    /** Diff.Diff of two mounted trees, written to content (gzip unless {@code mediaType} says otherwise). */
    public Descriptor diff(List<Mount> lower, List<Mount> upper, String mediaType) {
        return diff().diff(DiffRequest.newBuilder().addAllLeft(lower).addAllRight(upper).setMediaType(mediaType).build()).getDiff();
    }

    /** The gRPC status code {@code call} fails with (fails the test if it succeeds). */
    public static Status.Code codeOf(Runnable call) {
        try {
            call.run();
        } catch (StatusRuntimeException e) {
            return e.getStatus().getCode();
        }
        throw new AssertionError("call succeeded, an error was expected");
    }

    /** Work on a mounted tree. */
    public interface MountedWork {
        void run(Path root) throws Exception;
    }

    /**
     * Mounts {@code mounts} in this (test) process on a fresh directory under {@code base}, as a client
     * does (the product's mount code, so long overlay option lists mount too), runs {@code work},
     * then unmounts and removes the directory whatever happened.
     */
    public static void withMounted(List<Mount> mounts, Path base, MountedWork work) throws Exception {
        Path target = Files.createTempDirectory(base, "m");
        try {
            Mounts.mountAll(toMounts(mounts), target);
            try {
                work.run(target);
            } finally {
                Mounts.unmountAll(target, 0);
            }
        } finally {
            Files.deleteIfExists(target);
        }
    }

    public static List<io.jcontainerd.mount.Mount> toMounts(List<Mount> mounts) {
        return mounts.stream().map(m -> new io.jcontainerd.mount.Mount(m.getType(), m.getSource(), m.getTarget(),
                m.getOptionsList())).toList();
    }
}
