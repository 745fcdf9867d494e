package io.jcontainerd.archive;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The two whiteout translations agree: a layer applied to a plain copy of the lower tree looks exactly like
 * the same layer applied in overlay mode to an upperdir, seen through a real overlay mount.
 */
class OverlayEquivalenceTest {
    @TempDir
    Path tmp;

    static void run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) throw new IOException(String.join(" ", cmd) + ": " + out);
    }

    Path lower(String name) throws IOException {
        Path l = Files.createDirectory(tmp.resolve(name));
        byte[] base = new Tars()
                .dir("keep/").file("keep/a", "a").file("keep/b", "b")
                .dir("opq/").file("opq/old", "o").dir("opq/sub/").file("opq/sub/old", "o")
                .dir("gone/").file("gone/x", "x")
                .file("file", "f")
                .bytes();
        Applier.apply(l, new ByteArrayInputStream(base), ApplyOptions.plain());
        return l;
    }

    @Test
    void plainAndOverlayApplyGiveTheSameTree() throws Exception {
        byte[] layer = new Tars()
                .dir("keep/").file("keep/.wh.a", "").file("keep/c", "c")
                .file(".wh.gone", "")
                .dir("opq/").file("opq/.wh..wh..opq", "").file("opq/new", "n")
                .dir("implied/deep/").file("implied/deep/f", "d")
                .file("file", "changed")
                .bytes();

        Path plain = lower("plain");
        Applier.apply(plain, new ByteArrayInputStream(layer), ApplyOptions.plain());

        Path lower = lower("lower");
        Path upper = Files.createDirectory(tmp.resolve("upper"));
        Path work = Files.createDirectory(tmp.resolve("work"));
        Path merged = Files.createDirectory(tmp.resolve("merged"));
        Applier.apply(upper, new ByteArrayInputStream(layer), ApplyOptions.overlay(List.of(lower)));

        try {
            run("mount", "-t", "overlay", "overlay", "-o",
                    "lowerdir=" + lower + ",upperdir=" + upper + ",workdir=" + work, merged.toString());
        } catch (IOException e) {
            assumeTrue(false, "overlay mounts unavailable: " + e.getMessage());
        }
        try {
            Map<String, String> viaOverlay = TreeSnapshot.of(merged);
            assertThat(viaOverlay).isEqualTo(TreeSnapshot.of(plain));
            assertThat(viaOverlay).containsKeys("keep/b", "keep/c", "opq/new").doesNotContainKeys("keep/a", "gone", "opq/old", "opq/sub");
        } finally {
            run("umount", merged.toString());
        }
    }
}
