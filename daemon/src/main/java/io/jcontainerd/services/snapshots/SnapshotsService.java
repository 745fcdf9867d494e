package io.jcontainerd.services.snapshots;

import com.google.protobuf.Empty;
import io.grpc.stub.StreamObserver;
import io.jcontainerd.api.events.SnapshotCommit;
import io.jcontainerd.api.events.SnapshotPrepare;
import io.jcontainerd.api.events.SnapshotRemove;
import io.jcontainerd.api.services.snapshots.v1.CleanupRequest;
import io.jcontainerd.api.services.snapshots.v1.CommitSnapshotRequest;
import io.jcontainerd.api.services.snapshots.v1.ListSnapshotsRequest;
import io.jcontainerd.api.services.snapshots.v1.ListSnapshotsResponse;
import io.jcontainerd.api.services.snapshots.v1.MountsRequest;
import io.jcontainerd.api.services.snapshots.v1.MountsResponse;
import io.jcontainerd.api.services.snapshots.v1.PrepareSnapshotRequest;
import io.jcontainerd.api.services.snapshots.v1.PrepareSnapshotResponse;
import io.jcontainerd.api.services.snapshots.v1.RemoveSnapshotRequest;
import io.jcontainerd.api.services.snapshots.v1.SnapshotsGrpc;
import io.jcontainerd.api.services.snapshots.v1.StatSnapshotRequest;
import io.jcontainerd.api.services.snapshots.v1.StatSnapshotResponse;
import io.jcontainerd.api.services.snapshots.v1.UpdateSnapshotRequest;
import io.jcontainerd.api.services.snapshots.v1.UpdateSnapshotResponse;
import io.jcontainerd.api.services.snapshots.v1.UsageRequest;
import io.jcontainerd.api.services.snapshots.v1.UsageResponse;
import io.jcontainerd.api.services.snapshots.v1.ViewSnapshotRequest;
import io.jcontainerd.api.services.snapshots.v1.ViewSnapshotResponse;
import io.jcontainerd.errdefs.Errdefs;
import io.jcontainerd.events.Publisher;
import io.jcontainerd.leases.Leases;
import io.jcontainerd.metadata.MetadataDb;
import io.jcontainerd.metadata.MetadataSnapshotter;
import io.jcontainerd.mount.Mount;
import io.jcontainerd.namespaces.Namespaces;
import io.jcontainerd.plugin.GrpcService;
import io.jcontainerd.plugin.PluginProvider;
import io.jcontainerd.plugin.PluginType;
import io.jcontainerd.plugin.Registration;
import io.jcontainerd.protobuf.Timestamps;
import io.jcontainerd.snapshots.Info;
import io.jcontainerd.snapshots.Kind;
import io.jcontainerd.snapshots.Snapshotter;
import io.jcontainerd.snapshots.Usage;
import static io.jcontainerd.services.Unchecked.io;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** containerd.services.snapshots.v1.Snapshots: every snapshotter, namespaced through the metadata database. */
public final class SnapshotsService extends SnapshotsGrpc.SnapshotsImplBase implements GrpcService {
    private static final int LIST_BATCH = 100;

    private final Map<String, MetadataSnapshotter> snapshotters;
    private final Publisher events;

    SnapshotsService(Map<String, MetadataSnapshotter> snapshotters, Publisher events) {
        this.snapshotters = snapshotters;
        this.events = events;
    }

    private Snapshotter snapshotter(String name) {
        if (name.isEmpty()) throw Errdefs.invalidArgument("snapshotter argument missing");
        MetadataSnapshotter s = snapshotters.get(name);
        if (s == null) throw Errdefs.invalidArgument("snapshotter not loaded: %s", name);
        return s.view(Namespaces.required(), Leases.fromContext());
    }

    @Override
    public void prepare(PrepareSnapshotRequest req, StreamObserver<PrepareSnapshotResponse> out) {
        Snapshotter sn = snapshotter(req.getSnapshotter());
        List<Mount> mounts = io(() -> sn.prepare(req.getKey(), req.getParent(), req.getLabelsMap()));
        events.publish(Namespaces.required(), "/snapshot/prepare", SnapshotPrepare.newBuilder().setKey(req.getKey())
                .setParent(req.getParent()).setSnapshotter(req.getSnapshotter()).build());
        out.onNext(PrepareSnapshotResponse.newBuilder().addAllMounts(toProto(mounts)).build());
        out.onCompleted();
    }

    @Override
    public void view(ViewSnapshotRequest req, StreamObserver<ViewSnapshotResponse> out) {
        Snapshotter sn = snapshotter(req.getSnapshotter());
        List<Mount> mounts = io(() -> sn.view(req.getKey(), req.getParent(), req.getLabelsMap()));
        out.onNext(ViewSnapshotResponse.newBuilder().addAllMounts(toProto(mounts)).build());
        out.onCompleted();
    }

    @Override
    public void mounts(MountsRequest req, StreamObserver<MountsResponse> out) {
        Snapshotter sn = snapshotter(req.getSnapshotter());
        List<Mount> mounts = io(() -> sn.mounts(req.getKey()));
        out.onNext(MountsResponse.newBuilder().addAllMounts(toProto(mounts)).build());
        out.onCompleted();
    }

    @Override
    public void commit(CommitSnapshotRequest req, StreamObserver<Empty> out) {
        Snapshotter sn = snapshotter(req.getSnapshotter());
        io(() -> {
            sn.commit(req.getName(), req.getKey(), req.getLabelsMap());
            return null;
        });
        events.publish(Namespaces.required(), "/snapshot/commit", SnapshotCommit.newBuilder().setKey(req.getKey())
                .setName(req.getName()).setSnapshotter(req.getSnapshotter()).build());
        out.onNext(Empty.getDefaultInstance());
        out.onCompleted();
    }

    @Override
    public void remove(RemoveSnapshotRequest req, StreamObserver<Empty> out) {
        Snapshotter sn = snapshotter(req.getSnapshotter());
        io(() -> {
            sn.remove(req.getKey());
            return null;
        });
        events.publish(Namespaces.required(), "/snapshot/remove", SnapshotRemove.newBuilder().setKey(req.getKey())
                .setSnapshotter(req.getSnapshotter()).build());
        out.onNext(Empty.getDefaultInstance());
        out.onCompleted();
    }

    @Override
    public void stat(StatSnapshotRequest req, StreamObserver<StatSnapshotResponse> out) {
        Snapshotter sn = snapshotter(req.getSnapshotter());
        Info info = io(() -> sn.stat(req.getKey()));
        out.onNext(StatSnapshotResponse.newBuilder().setInfo(toProto(info)).build());
        out.onCompleted();
    }

    @Override
    public void update(UpdateSnapshotRequest req, StreamObserver<UpdateSnapshotResponse> out) {
        Snapshotter sn = snapshotter(req.getSnapshotter());
        List<String> paths = req.hasUpdateMask() ? req.getUpdateMask().getPathsList() : List.of();
        Info updated = io(() -> sn.update(Info.forUpdate(req.getInfo().getName(), req.getInfo().getLabelsMap()), paths));
        out.onNext(UpdateSnapshotResponse.newBuilder().setInfo(toProto(updated)).build());
        out.onCompleted();
    }

    @Override
    public void list(ListSnapshotsRequest req, StreamObserver<ListSnapshotsResponse> out) {
        Snapshotter sn = snapshotter(req.getSnapshotter());
        List<Info> all = new ArrayList<>();
        io(() -> {
            sn.walk(all::add, req.getFiltersList());
            return null;
        });
        for (int i = 0; i < all.size(); i += LIST_BATCH) {
            ListSnapshotsResponse.Builder b = ListSnapshotsResponse.newBuilder();
            all.subList(i, Math.min(all.size(), i + LIST_BATCH)).forEach(info -> b.addInfo(toProto(info)));
            out.onNext(b.build());
        }
        out.onCompleted();
    }

    @Override
    public void usage(UsageRequest req, StreamObserver<UsageResponse> out) {
        Snapshotter sn = snapshotter(req.getSnapshotter());
        Usage u = io(() -> sn.usage(req.getKey()));
        out.onNext(UsageResponse.newBuilder().setSize(u.size()).setInodes(u.inodes()).build());
        out.onCompleted();
    }

    @Override
    public void cleanup(CleanupRequest req, StreamObserver<Empty> out) {
        Snapshotter sn = snapshotter(req.getSnapshotter());
        io(() -> {
            sn.cleanup();
            return null;
        });
        out.onNext(Empty.getDefaultInstance());
        out.onCompleted();
    }

    static List<io.jcontainerd.api.types.Mount> toProto(List<Mount> mounts) {
        return mounts.stream().map(m -> io.jcontainerd.api.types.Mount.newBuilder().setType(m.type()).setSource(m.source())
                .setTarget(m.target()).addAllOptions(m.options()).build()).toList();
    }

    static io.jcontainerd.api.services.snapshots.v1.Info toProto(Info i) {
        return io.jcontainerd.api.services.snapshots.v1.Info.newBuilder()
                .setName(i.name()).setParent(i.parent())
                .setKind(switch (i.kind()) {
                    case VIEW -> io.jcontainerd.api.services.snapshots.v1.Kind.VIEW;
                    case ACTIVE -> io.jcontainerd.api.services.snapshots.v1.Kind.ACTIVE;
                    case COMMITTED -> io.jcontainerd.api.services.snapshots.v1.Kind.COMMITTED;
                })
                .setCreatedAt(Timestamps.of(i.created())).setUpdatedAt(Timestamps.of(i.updated()))
                .putAllLabels(i.labels())
                .build();
    }

    public static final class Provider implements PluginProvider {
        @Override
        public List<Registration> registrations() {
            return List.of(Registration.of(PluginType.GRPC, "snapshots", List.of(PluginType.METADATA),
                    ic -> new SnapshotsService(ic.plugins().single(PluginType.METADATA, MetadataDb.class).snapshotters(), ic.events())));
        }
    }
}
