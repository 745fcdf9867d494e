package io.jcontainerd.mount;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jcontainerd.snapshots.Dirs;
import io.jcontainerd.sys.Libc;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class MountsTest {
    Path dir;

    @BeforeEach
    void setUp() throws IOException {
        dir = Files.createTempDirectory(Path.of("/tmp"), "mounts-test");
        TempMounts.setLocation(dir.resolve("tmpmounts"));
    }

    @AfterEach
    void tearDown() throws IOException {
        Mounts.unmountRecursive(dir, Libc.MNT_DETACH);
        Dirs.deleteRecursively(dir);
    }

    static MountInfo.Entry entry(Path p) throws IOException {
        MountInfo.Entry last = null;
        for (MountInfo.Entry e : MountInfo.entries()) {
            if (e.mountPoint().equals(p)) last = e;
        }
        return last;
    }

    static String mountOptions(Path p) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            String[] f = line.split(" ");
            if (f[4].equals(p.toString())) return f[5] + " " + line.substring(line.indexOf(" - "));
        }
        return null;
    }

    @Test
    void optionsSplitIntoFlagsAndData() {
        MountOptions o = MountOptions.parse(List.of("ro", "nosuid", "rbind", "lowerdir=/a:/b", "rw", "rprivate", "index=off", "defaults"));
        assertThat(o.flags() & Libc.MS_RDONLY).isZero();
        assertThat(o.flags() & (Libc.MS_BIND | Libc.MS_REC | Libc.MS_NOSUID)).isEqualTo(Libc.MS_BIND | Libc.MS_REC | Libc.MS_NOSUID);
        assertThat(o.propagation()).isEqualTo(Libc.MS_PRIVATE);
        assertThat(o.mountFlags() & Libc.MS_PRIVATE).isZero();
        assertThat(o.dataString()).isEqualTo("lowerdir=/a:/b,index=off,defaults");
        assertThat(MountOptions.parse(List.of("loop")).loop()).isTrue();
        assertThat(MountOptions.parse(List.of("noatime", "atime")).flags()).isZero();
    }

    @Test
    void readOnlyBindIsRemountedReadOnlyAndPropagationApplied() throws Exception {
        Path src = Files.createDirectories(dir.resolve("src"));
        Files.writeString(src.resolve("f"), "x");
        Path target = Files.createDirectories(dir.resolve("target"));
        Mounts.mount(Mount.of("bind", src.toString(), List.of("ro", "rbind", "nodev", "rprivate")), target);
        try {
            assertThat(target.resolve("f")).hasContent("x");
            assertThatThrownBy(() -> Files.writeString(target.resolve("g"), "y")).isInstanceOf(IOException.class);
            String opts = mountOptions(target);
            assertThat(opts).startsWith("ro,nodev");
            assertThat(opts).doesNotContain("shared:");
        } finally {
            Mounts.unmountAll(target, 0);
        }
        assertThat(MountInfo.isMountPoint(target)).isFalse();
    }

    @Test
    void unmountAllTakesOffStackedMountsAndIgnoresUnmounted() throws Exception {
        Path target = Files.createDirectories(dir.resolve("t"));
        for (int i = 0; i < 3; i++) Mounts.mount(Mount.of("tmpfs", "tmpfs", List.of("size=1m")), target);
        assertThat(MountInfo.mountPointsUnder(dir)).hasSize(3);
        Mounts.unmountAll(target, 0);
        assertThat(MountInfo.mountPointsUnder(dir)).isEmpty();
        Mounts.unmount(target, 0); // not mounted: fine
        Mounts.unmountAll(dir.resolve("missing"), 0);
    }

    @Test
    void busyMountIsDetachedAfterRetries() throws Exception {
        Path target = Files.createDirectories(dir.resolve("busy"));
        Mounts.mount(Mount.of("tmpfs", "tmpfs", List.of()), target);
        try (FileChannel ch = FileChannel.open(target.resolve("open"), StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            // umount2 without flags would fail with EBUSY while the file is open
            Mounts.unmount(target, 0);
            assertThat(MountInfo.isMountPoint(target)).isFalse();
        }
    }

    @Test
    void withTempMountUnmountsAndRemovesEvenOnFailure() throws Exception {
        Path src = Files.createDirectories(dir.resolve("src"));
        Files.writeString(src.resolve("f"), "x");
        List<Mount> bind = List.of(Mount.of("bind", src.toString(), List.of("rbind", "rw")));
        String read = Mounts.withTempMount(bind, root -> Files.readString(root.resolve("f")));
        assertThat(read).isEqualTo("x");
        assertThatThrownBy(() -> Mounts.withTempMount(bind, root -> {
            throw new IOException("boom");
        })).hasMessage("boom");
        assertThatThrownBy(() -> Mounts.withReadonlyTempMount(bind, root -> Files.writeString(root.resolve("g"), "y")))
                .isInstanceOf(IOException.class);
        assertThat(MountInfo.mountPointsUnder(dir)).isEmpty();
        try (var s = Files.list(TempMounts.location())) {
            assertThat(s.toList()).isEmpty();
        }
    }

    @Test
    void failedMountAllUndoesEarlierMounts() throws Exception {
        Path src = Files.createDirectories(dir.resolve("src"));
        Path target = Files.createDirectories(dir.resolve("t"));
        List<Mount> mounts = List.of(Mount.of("bind", src.toString(), List.of("rbind")),
                Mount.of("bind", dir.resolve("missing").toString(), List.of("rbind")));
        assertThatThrownBy(() -> Mounts.mountAll(mounts, target)).isInstanceOf(IOException.class);
        assertThat(MountInfo.mountPointsUnder(dir)).isEmpty();
    }

    @Test
    void readonlyMountsDropUpperAndWorkOfOverlays() {
        List<Mount> ro = Mounts.readonly(List.of(
                Mount.of("overlay", "overlay", List.of("workdir=/w", "upperdir=/u", "lowerdir=/l1:/l2", "index=off")),
                Mount.of("bind", "/x", List.of("rbind", "rw"))));
        assertThat(ro.get(0).options()).containsExactly("lowerdir=/u:/l1:/l2", "index=off");
        assertThat(ro.get(1).options()).containsExactly("rbind", "ro");
    }

    /** 150 layers with long paths: far more than one page of options. */
    List<Path> layers(int n) throws IOException {
        List<Path> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Path l = Files.createDirectories(dir.resolve("a-rather-long-directory-name-for-layers/layer-number-" + i + "/fs"));
            Files.writeString(l.resolve("f" + i), Integer.toString(i));
            Files.writeString(l.resolve("top"), Integer.toString(i));
            out.add(l);
        }
        return out;
    }

    static String lowerdir(List<Path> layers) {
        StringBuilder b = new StringBuilder("lowerdir=");
        for (int i = layers.size() - 1; i >= 0; i--) {
            b.append(layers.get(i));
            if (i > 0) b.append(':');
        }
        return b.toString();
    }

    void checkLongOverlay(Path target, int n) throws IOException {
        for (int i = 0; i < n; i++) assertThat(target.resolve("f" + i)).hasContent(Integer.toString(i));
        // the last layer given is the bottom one, the first the top
        assertThat(target.resolve("top")).hasContent(Integer.toString(n - 1));
        assertThat(target.resolve("upper-file")).hasContent("u");
    }

    @Test
    void longOverlayMountsThroughMountAll() throws Exception {
        int n = 150;
        List<Path> l = layers(n);
        Path upper = Files.createDirectories(dir.resolve("upper"));
        Path work = Files.createDirectories(dir.resolve("work"));
        Path target = Files.createDirectories(dir.resolve("merged"));
        List<String> opts = List.of("workdir=" + work, "upperdir=" + upper, lowerdir(l), "index=off");
        assertThat(Mounts.optionsSize(opts)).isGreaterThan(Mounts.PAGE_SIZE);
        Mounts.mountAll(List.of(Mount.of("overlay", "overlay", opts)), target);
        try {
            Files.writeString(target.resolve("upper-file"), "u");
            checkLongOverlay(target, n);
            assertThat(entry(target).fsType()).isEqualTo("overlay");
        } finally {
            Mounts.unmountAll(target, 0);
        }
        assertThat(upper.resolve("upper-file")).hasContent("u");
    }

    @Test
    void bothLongOverlayStrategiesWork() throws Exception {
        int n = 150;
        List<Path> l = layers(n);
        for (int strategy = 0; strategy < 2; strategy++) {
            Path upper = Files.createDirectories(dir.resolve("upper" + strategy));
            Path work = Files.createDirectories(dir.resolve("work" + strategy));
            Path target = Files.createDirectories(dir.resolve("merged" + strategy));
            List<String> data = List.of("workdir=" + work, "upperdir=" + upper, lowerdir(l));
            if (strategy == 0) LongOverlay.withFsconfig("overlay", target.toString(), Libc.MS_NODEV, data);
            else LongOverlay.withFdPaths("overlay", target.toString(), Libc.MS_NODEV, data);
            try {
                Files.writeString(target.resolve("upper-file"), "u");
                checkLongOverlay(target, n);
                assertThat(mountOptions(target)).contains("nodev");
            } finally {
                Mounts.unmountAll(target, 0);
            }
        }
    }

    @Test
    void lowerdirsSplitOnUnescapedColons() {
        assertThat(LongOverlay.splitLowerdirs("/a:/b\\:c:/d")).containsExactly("/a", "/b:c", "/d");
    }

    @Test
    void lookupFindsTheMountOfAPath() throws Exception {
        Path target = Files.createDirectories(dir.resolve("t"));
        Mounts.mount(Mount.of("tmpfs", "mysource", List.of()), target);
        try {
            Files.createDirectories(target.resolve("sub/dir"));
            MountInfo.Entry e = MountInfo.lookup(target.resolve("sub/dir"));
            assertThat(e.fsType()).isEqualTo("tmpfs");
            assertThat(e.source()).isEqualTo("mysource");
            assertThat(e.mountPoint()).isEqualTo(target);
        } finally {
            Mounts.unmountAll(target, 0);
        }
    }
}
