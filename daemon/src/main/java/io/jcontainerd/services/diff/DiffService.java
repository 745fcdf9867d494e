package io.jcontainerd.services.diff;

import io.grpc.stub.StreamObserver;
import io.jcontainerd.api.services.diff.v1.ApplyRequest;
import io.jcontainerd.api.services.diff.v1.ApplyResponse;
import io.jcontainerd.api.services.diff.v1.DiffGrpc;
import io.jcontainerd.api.services.diff.v1.DiffRequest;
import io.jcontainerd.api.services.diff.v1.DiffResponse;
import io.jcontainerd.api.types.Descriptor;
import io.jcontainerd.config.TomlKey;
import io.jcontainerd.content.ContentStore;
import io.jcontainerd.diff.walking.WalkingDiffer;
import io.jcontainerd.errdefs.Errdefs;
import io.jcontainerd.leases.Leases;
import io.jcontainerd.metadata.MetadataDb;
import io.jcontainerd.mount.Mount;
import io.jcontainerd.namespaces.Namespaces;
import io.jcontainerd.plugin.GrpcService;
import io.jcontainerd.plugin.PluginProvider;
import io.jcontainerd.plugin.PluginType;
import io.jcontainerd.plugin.Registration;
import static io.jcontainerd.services.Unchecked.io;

import java.util.List;

/** containerd.services.diff.v1.Diff over the configured differ (containerd's default: walking). */
public final class DiffService extends DiffGrpc.DiffImplBase implements GrpcService {

    /**
     * {@code [plugins."io.containerd.service.v1.diff-service"] default = [...]}: the differ plugins to
     * use, first loaded one wins, as containerd's diff service config.
     */
    public record DiffServiceConfig(@TomlKey("default") List<String> differs) {}

    private final MetadataDb db;
    private final WalkingDiffer differ;

    DiffService(MetadataDb db, WalkingDiffer differ) {
        this.db = db;
        this.differ = differ;
    }

    private ContentStore content() {
        if (!db.hasContent()) throw Errdefs.failedPrecondition("no content store is available");
        return db.content().view(Namespaces.required(), Leases.fromContext());
    }

    @Override
    public void apply(ApplyRequest req, StreamObserver<ApplyResponse> out) {
        Descriptor d = req.getDiff();
        WalkingDiffer.Descriptor applied = io(() -> differ.apply(content(),
                new WalkingDiffer.Descriptor(d.getMediaType(), d.getDigest(), d.getSize()), mounts(req.getMountsList())));
        out.onNext(ApplyResponse.newBuilder().setApplied(toProto(applied)).build());
        out.onCompleted();
    }

    @Override
    public void diff(DiffRequest req, StreamObserver<DiffResponse> out) {
        WalkingDiffer.Descriptor d = io(() -> differ.compare(content(), mounts(req.getLeftList()), mounts(req.getRightList()),
                req.getMediaType(), req.getRef(), req.getLabelsMap()));
        out.onNext(DiffResponse.newBuilder().setDiff(toProto(d)).build());
        out.onCompleted();
    }

    static List<Mount> mounts(List<io.jcontainerd.api.types.Mount> in) {
        return in.stream().map(m -> new Mount(m.getType(), m.getSource(), m.getTarget(), m.getOptionsList())).toList();
    }

    static Descriptor toProto(WalkingDiffer.Descriptor d) {
        return Descriptor.newBuilder().setMediaType(d.mediaType()).setDigest(d.digest()).setSize(d.size()).build();
    }

    public static final class Provider implements PluginProvider {
        @Override
        public List<Registration> registrations() {
            return List.of(
                    new Registration(PluginType.SERVICE, "diff-service", List.of(PluginType.DIFF),
                            new DiffServiceConfig(List.of("walking")),
                            ic -> {
                                DiffServiceConfig cfg = ic.config(DiffServiceConfig.class);
                                var differs = ic.plugins().instancesOf(PluginType.DIFF, WalkingDiffer.class);
                                return cfg.differs().stream().map(differs::get).filter(java.util.Objects::nonNull)
                                        .findFirst().orElseThrow(() -> new IllegalStateException(
                                                "none of the configured differs " + cfg.differs() + " is loaded"));
                            }),
                    Registration.of(PluginType.GRPC, "diff", List.of(PluginType.SERVICE, PluginType.METADATA),
                            ic -> new DiffService(ic.plugins().single(PluginType.METADATA, MetadataDb.class),
                                    ic.plugins().get(PluginType.SERVICE, "diff-service", WalkingDiffer.class))));
        }
    }
}
