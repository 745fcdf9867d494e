package io.jcontainerd.snapshots.nativesnap;

import static org.assertj.core.api.Assertions.assertThat;

import io.jcontainerd.mount.Mount;
import io.jcontainerd.snapshots.Snapshotter;
import io.jcontainerd.snapshots.SnapshotterSuite;
import io.jcontainerd.sys.Libc;
import io.jcontainerd.sys.Stat;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NativeSnapshotterTest extends SnapshotterSuite {

    @Override
    protected Path newRootBase() throws IOException {
        return Files.createTempDirectory(Path.of("/tmp"), "native-test");
    }

    @Override
    protected Snapshotter open(Path root) throws IOException {
        return NativeSnapshotter.open(root);
    }

    @Override
    protected long countSnapshotDirs(Path root) throws IOException {
        try (var s = Files.list(root.resolve("snapshots"))) {
            return s.count();
        }
    }

    @Override
    protected void makeOrphan(Path root) throws IOException {
        Files.createDirectories(root.resolve("snapshots/new-123456/etc"));
        Files.createDirectories(root.resolve("snapshots/rm-77"));
    }

    @Override
    protected boolean usageIsOwnChangesOnly() {
        return false;
    }

    String snap(String id) {
        return root.toAbsolutePath() + "/snapshots/" + id;
    }

    @Test
    void mountsHaveContainerdShape() throws Exception {
        assertThat(sn.prepare("a", "", Map.of())).containsExactly(Mount.of("bind", snap("1"), List.of("rbind", "rw")));
        sn.commit("l1", "a", Map.of());
        // a view of a committed snapshot binds the parent itself, read-only, without copying
        assertThat(sn.view("v", "l1", Map.of())).containsExactly(Mount.of("bind", snap("1"), List.of("rbind", "ro")));
        assertThat(Path.of(snap("2"))).doesNotExist();
        assertThat(sn.prepare("b", "l1", Map.of())).containsExactly(Mount.of("bind", snap("3"), List.of("rbind", "rw")));
    }

    @Test
    void copyKeepsLinksSpecialFilesOwnersModesXattrsAndTimes() throws Exception {
        sn.prepare("a", "", Map.of());
        Path base = Path.of(snap("1"));
        Files.writeString(base.resolve("file"), "content");
        Files.createLink(base.resolve("hardlink"), base.resolve("file"));
        Files.createSymbolicLink(base.resolve("symlink"), Path.of("file"));
        Libc.mknod(base.resolve("fifo").toString(), Stat.S_IFIFO | 0640, 0);
        Libc.mknod(base.resolve("null").toString(), Stat.S_IFCHR | 0666, Libc.makedev(1, 3));
        Files.createDirectory(base.resolve("dir"));
        Libc.lchown(base.resolve("dir").toString(), 10, 20);
        Libc.chmod(base.resolve("dir").toString(), 01755);
        Libc.lchown(base.resolve("symlink").toString(), 30, 40);
        Libc.chmod(base.resolve("file").toString(), 02644);
        Libc.lsetxattr(base.resolve("file").toString(), "user.test", "v".getBytes(StandardCharsets.UTF_8));
        Libc.lsetxattr(base.resolve("dir").toString(), "trusted.overlay.opaque", "y".getBytes(StandardCharsets.UTF_8));
        Libc.lutimes(base.resolve("file").toString(), 1000, 1, 2000, 2);
        Libc.lutimes(base.resolve("dir").toString(), 3000, 0, 4000, 0);
        sn.commit("l1", "a", Map.of());

        sn.prepare("b", "l1", Map.of());
        Path copy = Path.of(snap("2"));
        Stat file = Libc.lstat(copy.resolve("file").toString());
        assertThat(Files.readString(copy.resolve("file"))).isEqualTo("content");
        assertThat(file.nlink()).isEqualTo(2);
        assertThat(Libc.lstat(copy.resolve("hardlink").toString()).ino()).isEqualTo(file.ino());
        assertThat(file.permissions()).isEqualTo(02644);
        assertThat(file.mtimeSec()).isEqualTo(2000);
        assertThat(file.mtimeNsec()).isEqualTo(2);
        assertThat(new String(Libc.lgetxattr(copy.resolve("file").toString(), "user.test"), StandardCharsets.UTF_8)).isEqualTo("v");
        assertThat(Files.readSymbolicLink(copy.resolve("symlink"))).isEqualTo(Path.of("file"));
        Stat link = Libc.lstat(copy.resolve("symlink").toString());
        assertThat(link.uid()).isEqualTo(30);
        assertThat(link.gid()).isEqualTo(40);
        assertThat(Libc.lstat(copy.resolve("fifo").toString()).type()).isEqualTo(Stat.S_IFIFO);
        assertThat(Libc.lstat(copy.resolve("fifo").toString()).permissions()).isEqualTo(0640);
        Stat dev = Libc.lstat(copy.resolve("null").toString());
        assertThat(dev.type()).isEqualTo(Stat.S_IFCHR);
        assertThat(dev.rdevMajor()).isEqualTo(1);
        assertThat(dev.rdevMinor()).isEqualTo(3);
        Stat dir = Libc.lstat(copy.resolve("dir").toString());
        assertThat(dir.uid()).isEqualTo(10);
        assertThat(dir.gid()).isEqualTo(20);
        assertThat(dir.permissions()).isEqualTo(01755);
        assertThat(dir.mtimeSec()).isEqualTo(4000);
        assertThat(Libc.lgetxattr(copy.resolve("dir").toString(), "trusted.overlay.opaque")).containsExactly('y');
        assertThat(Libc.llistxattr(copy.resolve("file").toString())).contains("user.test");
        assertThat(Libc.lgetxattr(copy.resolve("file").toString(), "user.absent")).isNull();
    }
}
