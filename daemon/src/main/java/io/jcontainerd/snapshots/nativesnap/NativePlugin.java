package io.jcontainerd.snapshots.nativesnap;

import io.jcontainerd.plugin.PluginProvider;
import io.jcontainerd.plugin.PluginType;
import io.jcontainerd.plugin.Registration;
import java.nio.file.Path;
import java.util.List;

/** Registers {@code io.containerd.snapshotter.v1.native}. */
public final class NativePlugin implements PluginProvider {

    /** containerd's native plugin config: {@code root_path} (default: the plugin's root). */
    public record NativeConfig(String rootPath) {}

    @Override
    public List<Registration> registrations() {
        return List.of(new Registration(PluginType.SNAPSHOT, "native", List.of(), new NativeConfig(""),
                ic -> {
                    ic.platforms().add(io.jcontainerd.plugin.Platform.host());
                    NativeConfig cfg = ic.config(NativeConfig.class);
                    Path root = cfg.rootPath() == null || cfg.rootPath().isEmpty() ? ic.root() : Path.of(cfg.rootPath());
                    ic.exports().put("root", root.toString());
                    return NativeSnapshotter.open(root);
                }));
    }
}
