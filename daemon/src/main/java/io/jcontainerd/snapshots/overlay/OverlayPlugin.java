package io.jcontainerd.snapshots.overlay;

import io.jcontainerd.plugin.PluginProvider;
import io.jcontainerd.plugin.PluginType;
import io.jcontainerd.plugin.Registration;
import io.jcontainerd.plugin.SkipPluginException;
import java.nio.file.Path;
import java.util.List;

/** Registers {@code io.containerd.snapshotter.v1.overlayfs}. */
public final class OverlayPlugin implements PluginProvider {

    /**
     * containerd's overlay plugin config: {@code root_path} (default: the plugin's root),
     * {@code upperdir_label}, {@code sync_remove} (remove directories at Remove rather than at
     * Cleanup) and {@code mount_options} (added to overlay mounts).
     */
    public record OverlayConfig(String rootPath, boolean upperdirLabel, boolean syncRemove, List<String> mountOptions) {}

    @Override
    public List<Registration> registrations() {
        return List.of(new Registration(PluginType.SNAPSHOT, "overlayfs", List.of(),
                new OverlayConfig("", false, false, List.of()),
                ic -> {
                    ic.platforms().add(io.jcontainerd.plugin.Platform.host());
                    OverlayConfig cfg = ic.config(OverlayConfig.class);
                    Path root = cfg.rootPath() == null || cfg.rootPath().isEmpty() ? ic.root() : Path.of(cfg.rootPath());
                    String reason = OverlaySupport.unsupportedReason(root);
                    if (reason != null) throw new SkipPluginException("overlayfs is not supported on " + root + ": " + reason);
                    ic.exports().put("root", root.toString());
                    return OverlaySnapshotter.open(root, new OverlaySnapshotter.Options(!cfg.syncRemove(), cfg.upperdirLabel(),
                            cfg.mountOptions() == null ? List.of() : cfg.mountOptions()));
                }));
    }
}
