package io.jcontainerd.snapshots.btrfs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jcontainerd.mount.Mount;
import io.jcontainerd.mount.Mounts;
import io.jcontainerd.snapshots.Dirs;
import io.jcontainerd.snapshots.Snapshotter;
import io.jcontainerd.snapshots.SnapshotterSuite;
import io.jcontainerd.sys.Libc;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The suite on a btrfs volume made for the test: a sparse image, mkfs.btrfs, a loop mount. */
class BtrfsSnapshotterTest extends SnapshotterSuite {

    static Path volumeDir;
    static Path mountPoint;

    static void run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) throw new IOException(String.join(" ", cmd) + ": " + out);
    }

    @BeforeAll
    static void makeVolume() throws Exception {
        volumeDir = Files.createTempDirectory(Path.of("/tmp"), "btrfs-vol");
        Path image = volumeDir.resolve("btrfs.img");
        mountPoint = Files.createDirectory(volumeDir.resolve("mnt"));
        try {
            run("truncate", "-s", "1G", image.toString());
            run("mkfs.btrfs", "-q", image.toString());
            // -o loop sets up an autoclear loop device: it goes away with the unmount
            run("mount", "-o", "loop", image.toString(), mountPoint.toString());
        } catch (Exception e) {
            removeVolume();
            throw e;
        }
    }

    @AfterAll
    static void removeVolume() throws Exception {
        if (volumeDir == null) return;
        try {
            Mounts.unmountAll(mountPoint, 0);
        } finally {
            Path image = volumeDir.resolve("btrfs.img");
            // in case autoclear did not take: detach any loop device still backed by the image
            Process p = new ProcessBuilder("losetup", "-j", image.toString()).start();
            for (String line : new String(p.getInputStream().readAllBytes()).split("\n")) {
                if (line.contains(":")) run("losetup", "-d", line.substring(0, line.indexOf(':')));
            }
            p.waitFor();
            Dirs.deleteRecursively(volumeDir);
        }
    }

    @Override
    protected Path newRootBase() throws IOException {
        return Files.createTempDirectory(mountPoint, "btrfs-test");
    }

    @Override
    protected Snapshotter open(Path root) throws IOException {
        return BtrfsSnapshotter.open(root);
    }

    @Override
    protected void deleteTree(Path dir) throws IOException {
        List<Path> subvolumes = new ArrayList<>();
        if (Files.exists(dir)) {
            try (var walk = Files.walk(dir)) {
                for (Path p : walk.toList()) {
                    if (Files.isDirectory(p) && BtrfsIoctl.isSubvolume(p)) subvolumes.add(p);
                }
            }
        }
        subvolumes.sort(Comparator.comparingInt(Path::getNameCount).reversed());
        for (Path s : subvolumes) BtrfsIoctl.delete(s);
        Dirs.deleteRecursively(dir);
    }

    @Override
    protected long countSnapshotDirs(Path root) throws IOException {
        long n = 0;
        for (String d : List.of("active", "view", "snapshots")) {
            try (var s = Files.list(root.resolve(d))) {
                n += s.count();
            }
        }
        return n;
    }

    @Override
    protected void makeOrphan(Path root) throws IOException {
        BtrfsIoctl.create(root.resolve("active/424242"));
        Files.writeString(root.resolve("active/424242/file"), "x");
        Files.createDirectories(root.resolve("snapshots/rm-5"));
    }

    @Test
    void mountsAreSubvolumesOfTheDevice() throws Exception {
        BtrfsSnapshotter b = (BtrfsSnapshotter) sn;
        assertThat(b.device()).startsWith("/dev/loop");
        List<Mount> m = sn.prepare("a", "", Map.of());
        long id = BtrfsIoctl.subvolumeId(root.resolve("active/1"));
        assertThat(m).containsExactly(Mount.of("btrfs", b.device(), List.of("subvolid=" + id)));
        assertThat(BtrfsIoctl.isSubvolume(root.resolve("active/1"))).isTrue();
        Files.writeString(root.resolve("active/1/f"), "x");
        sn.commit("l1", "a", Map.of());
        // committing snapshots the active read-only and drops the writable subvolume
        assertThat(root.resolve("active/1")).doesNotExist();
        assertThat(root.resolve("snapshots/1/f")).hasContent("x");
        assertThatThrownBy(() -> Files.writeString(root.resolve("snapshots/1/g"), "y")).isInstanceOf(IOException.class);

        List<Mount> v = sn.view("v", "l1", Map.of());
        long vid = BtrfsIoctl.subvolumeId(root.resolve("view/2"));
        assertThat(v).containsExactly(Mount.of("btrfs", b.device(), List.of("subvolid=" + vid, "ro")));
        sn.remove("v");
        assertThat(root.resolve("view/2")).doesNotExist();
        assertThat(root.resolve("view/rm-2")).doesNotExist();
    }

    @Test
    void skipsWhenRootIsNotBtrfs() throws Exception {
        Path notBtrfs = Files.createTempDirectory(Path.of("/tmp"), "not-btrfs");
        try {
            assertThatThrownBy(() -> BtrfsSnapshotter.open(notBtrfs.resolve("root")))
                    .isInstanceOf(BtrfsSnapshotter.NotBtrfsException.class)
                    .hasMessageContaining("must be a btrfs filesystem");
        } finally {
            Dirs.deleteRecursively(notBtrfs);
        }
    }

    @Test
    void nestedSubvolumesAreDestroyedWithTheirSnapshot() throws Exception {
        sn.prepare("a", "", Map.of());
        BtrfsIoctl.create(root.resolve("active/1/nested"));
        sn.remove("a");
        assertThat(countSnapshotDirs(root)).isZero();
        assertThat(Libc.statfsType(root.toString())).isEqualTo(BtrfsIoctl.BTRFS_SUPER_MAGIC);
    }
}
