package io.jcontainerd.services.introspection;

import com.google.rpc.Status;
import io.jcontainerd.api.services.introspection.v1.Plugin;
import io.jcontainerd.errdefs.Errdefs;

/** Renders a plugin's outcome the way containerd reports it. */
final class PluginInfo {
    private PluginInfo() {}

    /** ctr decides "skip" by finding this text in the init error. */
    static final String SKIP_MARKER = "skip plugin";

    static Plugin toProto(io.jcontainerd.plugin.Plugin p) {
        Plugin.Builder b = Plugin.newBuilder()
                .setType(p.type())
                .setId(p.id())
                .addAllRequires(p.registration().requires())
                .putAllExports(p.exports());
        for (var pl : p.platforms()) {
            b.addPlatforms(io.jcontainerd.api.types.Platform.newBuilder().setOs(pl.os()).setArchitecture(pl.architecture())
                    .setVariant(pl.variant()));
        }
        switch (p.status()) {
            case SKIP -> b.setInitErr(Status.newBuilder()
                    .setCode(io.grpc.Status.Code.UNKNOWN.value())
                    .setMessage(p.error().getMessage() + ": " + SKIP_MARKER));
            case ERROR -> {
                io.grpc.Status s = Errdefs.toStatus(p.error());
                b.setInitErr(Status.newBuilder().setCode(s.getCode().value())
                        .setMessage(s.getDescription() == null ? String.valueOf(p.error()) : s.getDescription()));
            }
            case OK -> { }
        }
        return b.build();
    }
}
