package io.jcontainerd.snapshots.overlay;

import static org.assertj.core.api.Assertions.assertThat;

import io.jcontainerd.mount.Mount;
import io.jcontainerd.snapshots.Info;
import io.jcontainerd.snapshots.Snapshotter;
import io.jcontainerd.snapshots.SnapshotterSuite;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OverlaySnapshotterTest extends SnapshotterSuite {

    @Override
    protected Path newRootBase() throws IOException {
        return Files.createTempDirectory(Path.of("/tmp"), "overlay-test");
    }

    @Override
    protected Snapshotter open(Path root) throws IOException {
        return OverlaySnapshotter.open(root, new OverlaySnapshotter.Options(true, false, List.of()));
    }

    @Override
    protected long countSnapshotDirs(Path root) throws IOException {
        try (var s = Files.list(root.resolve("snapshots"))) {
            return s.count();
        }
    }

    @Override
    protected void makeOrphan(Path root) throws IOException {
        Files.createDirectories(root.resolve("snapshots/new-123456/fs"));
        Files.createDirectories(root.resolve("snapshots/99999/fs"));
    }

    String snap(String id) {
        return root.toAbsolutePath() + "/snapshots/" + id;
    }

    List<String> index() {
        return OverlaySupport.supportsIndex() ? List.of("index=off") : List.of();
    }

    @Test
    void mountsHaveContainerdShape() throws Exception {
        assertThat(sn.prepare("a", "", Map.of()))
                .containsExactly(Mount.of("bind", snap("1") + "/fs", List.of("rw", "rbind")));
        assertThat(sn.view("v0", "", Map.of()))
                .containsExactly(Mount.of("bind", snap("2") + "/fs", List.of("ro", "rbind")));
        assertThat(Path.of(snap("1"), "work")).isDirectory();
        assertThat(Path.of(snap("2"), "work")).doesNotExist();
        sn.commit("l1", "a", Map.of());

        // a view of one layer: a read-only bind of that layer
        assertThat(sn.view("v1", "l1", Map.of()))
                .containsExactly(Mount.of("bind", snap("1") + "/fs", List.of("ro", "rbind")));
        List<String> opts = new ArrayList<>(List.of("workdir=" + snap("4") + "/work", "upperdir=" + snap("4") + "/fs",
                "lowerdir=" + snap("1") + "/fs"));
        opts.addAll(index());
        assertThat(sn.prepare("b", "l1", Map.of())).containsExactly(Mount.of("overlay", "overlay", opts));
        sn.commit("l2", "b", Map.of());

        // a view of several layers: an overlay with lowerdir only, top-most first
        List<String> viewOpts = new ArrayList<>(List.of("lowerdir=" + snap("4") + "/fs:" + snap("1") + "/fs"));
        viewOpts.addAll(index());
        assertThat(sn.view("v2", "l2", Map.of())).containsExactly(Mount.of("overlay", "overlay", viewOpts));
    }

    @Test
    void configuredOptionsUpperdirLabelAndSyncRemove() throws Exception {
        sn.close();
        sn = OverlaySnapshotter.open(root, new OverlaySnapshotter.Options(false, true, List.of("volatile")));
        sn.prepare("a", "", Map.of());
        sn.commit("l1", "a", Map.of());
        List<Mount> m = sn.prepare("b", "l1", Map.of());
        // configured options follow lowerdir; detected ones (index=off) come after them
        assertThat(m.getFirst().options().get(3)).isEqualTo("volatile");
        Info info = sn.stat("b");
        assertThat(info.labels()).containsEntry(OverlaySnapshotter.UPPERDIR_LABEL, snap("2") + "/fs");
        List<Info> walked = new ArrayList<>();
        sn.walk(walked::add, List.of());
        assertThat(walked).allSatisfy(i -> assertThat(i.labels()).containsKey(OverlaySnapshotter.UPPERDIR_LABEL));
        assertThat(sn.update(Info.forUpdate("b", Map.of("x", "y")), List.of()).labels())
                .containsEntry("x", "y").containsKey(OverlaySnapshotter.UPPERDIR_LABEL);
        sn.remove("b");
        // sync remove: the directory is gone at once
        assertThat(Path.of(snap("2"))).doesNotExist();
    }

    @Test
    void supportProbe() {
        assertThat(OverlaySupport.unsupportedReason(root)).isNull();
        assertThat(OverlaySupport.needsUserXattr(root)).isFalse();
    }
}
