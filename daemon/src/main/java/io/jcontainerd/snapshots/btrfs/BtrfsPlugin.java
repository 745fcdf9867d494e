package io.jcontainerd.snapshots.btrfs;

import io.jcontainerd.plugin.PluginProvider;
import io.jcontainerd.plugin.PluginType;
import io.jcontainerd.plugin.Registration;
import io.jcontainerd.plugin.SkipPluginException;
import java.nio.file.Path;
import java.util.List;

/** Registers {@code io.containerd.snapshotter.v1.btrfs}; it skips unless its root is on btrfs. */
public final class BtrfsPlugin implements PluginProvider {

    /** containerd's btrfs plugin config: {@code root_path} (default: the plugin's root). */
    public record BtrfsConfig(String rootPath) {}

    @Override
    public List<Registration> registrations() {
        return List.of(new Registration(PluginType.SNAPSHOT, "btrfs", List.of(), new BtrfsConfig(""),
                ic -> {
                    ic.platforms().add(io.jcontainerd.plugin.Platform.host());
                    BtrfsConfig cfg = ic.config(BtrfsConfig.class);
                    Path root = cfg.rootPath() == null || cfg.rootPath().isEmpty() ? ic.root() : Path.of(cfg.rootPath());
                    ic.exports().put("root", root.toString());
                    try {
                        return BtrfsSnapshotter.open(root);
                    } catch (BtrfsSnapshotter.NotBtrfsException e) {
                        throw new SkipPluginException(e.getMessage());
                    }
                }));
    }
}
