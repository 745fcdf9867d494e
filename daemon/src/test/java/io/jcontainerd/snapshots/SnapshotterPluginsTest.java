package io.jcontainerd.snapshots;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Message;
import io.jcontainerd.config.Config;
import io.jcontainerd.config.ConfigLoader;
import io.jcontainerd.events.Publisher;
import io.jcontainerd.mount.Mounts;
import io.jcontainerd.plugin.Plugin;
import io.jcontainerd.plugin.PluginLoader;
import io.jcontainerd.plugin.PluginSet;
import io.jcontainerd.plugin.PluginType;
import io.jcontainerd.plugin.Registration;
import io.jcontainerd.snapshots.btrfs.BtrfsPlugin;
import io.jcontainerd.snapshots.nativesnap.NativePlugin;
import io.jcontainerd.snapshots.overlay.OverlayPlugin;
import io.jcontainerd.sys.Libc;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The three snapshotter plugins through the real plugin loader and config decoding. */
class SnapshotterPluginsTest {
    static final Publisher NO_EVENTS = (String ns, String topic, Message event) -> { };

    @Test
    void pluginsInitSkipAndExportTheirRoot() throws Exception {
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "snapshot-plugins");
        PluginSet set = null;
        try {
            Path nativeRoot = dir.resolve("elsewhere/native");
            String toml = """
                    version = 2
                    root = "%s"
                    state = "%s"
                    [plugins."io.containerd.snapshotter.v1.native"]
                      root_path = "%s"
                    [plugins."io.containerd.snapshotter.v1.overlayfs"]
                      upperdir_label = true
                      sync_remove = true
                      mount_options = ["volatile"]
                    """.formatted(dir.resolve("root"), dir.resolve("state"), nativeRoot);
            Config cfg = ConfigLoader.parse(toml, "test.toml").config();
            List<Registration> regs = new ArrayList<>();
            regs.addAll(new OverlayPlugin().registrations());
            regs.addAll(new NativePlugin().registrations());
            regs.addAll(new BtrfsPlugin().registrations());
            set = PluginLoader.load(regs, cfg, NO_EVENTS, Clock.systemUTC(), p -> { });

            Map<String, Plugin> byId = new java.util.HashMap<>();
            set.all().forEach(p -> byId.put(p.id(), p));
            assertThat(byId.get("overlayfs").status()).isEqualTo(Plugin.Status.OK);
            assertThat(byId.get("overlayfs").exports())
                    .containsEntry("root", dir.resolve("root/io.containerd.snapshotter.v1.overlayfs").toString());
            assertThat(byId.get("native").status()).isEqualTo(Plugin.Status.OK);
            assertThat(byId.get("native").exports()).containsEntry("root", nativeRoot.toString());
            assertThat(byId.get("btrfs").status()).isEqualTo(Plugin.Status.SKIP);
            assertThat(byId.get("btrfs").error()).hasMessageContaining("must be a btrfs filesystem to be used with the btrfs snapshotter");

            Snapshotter overlay = set.get(PluginType.SNAPSHOT, "overlayfs", Snapshotter.class);
            overlay.prepare("a", "", Map.of());
            overlay.commit("base", "a", Map.of());
            assertThat(overlay.prepare("b", "base", Map.of()).getFirst().options()).contains("volatile");
            assertThat(overlay.stat("b").labels()).containsKey("containerd.io/snapshot/overlay.upperdir");
            assertThat(set.instancesOf(PluginType.SNAPSHOT, Snapshotter.class)).containsOnlyKeys("overlayfs", "native");
        } finally {
            if (set != null) PluginLoader.closeAll(set);
            Mounts.unmountRecursive(dir, Libc.MNT_DETACH);
            Dirs.deleteRecursively(dir);
        }
    }
}
