package io.jcontainerd.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.jcontainerd.testing.Ctr;
import io.jcontainerd.testing.DaemonProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The Snapshots service through the real ctr, against overlayfs and native, with real mounts. */
class SnapshotsCtrTest {
    static DaemonProcess daemon;

    @BeforeAll
    static void start() throws Exception {
        // ctr 1.6 cannot put these snapshots under a lease, so the collector (which would rightly take
        // unreferenced snapshots) must have done its start-up run before the test begins
        daemon = DaemonProcess.start("""
                version = 2
                [plugins."io.containerd.gc.v1.scheduler"]
                  startup_delay = "0s"
                """);
    }

    @AfterAll
    static void stop() {
        if (daemon != null) daemon.close();
    }

    static Ctr.Result ctr(String snapshotter, String... args) {
        String[] all = new String[args.length + 4];
        all[0] = "-n";
        all[1] = "snaps";
        all[2] = "snapshots";
        all[3] = "--snapshotter=" + snapshotter;
        System.arraycopy(args, 0, all, 4, args.length);
        return Ctr.run(daemon.address(), all);
    }

    /** Mounts {@code key} at {@code target} with the command ctr prints, runs {@code body}, unmounts. */
    static void withMounted(String snapshotter, String key, Path target, ThrowingRunnable body) throws Exception {
        Files.createDirectories(target);
        String cmd = ctr(snapshotter, "mounts", target.toString(), key).assertOk().stdout();
        sh(cmd);
        try {
            body.run();
        } finally {
            sh("umount " + target);
        }
    }

    interface ThrowingRunnable {
        void run() throws Exception;
    }

    static void sh(String cmd) throws Exception {
        Process p = new ProcessBuilder("sh", "-c", cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) throw new AssertionError("`" + cmd + "` failed: " + out);
    }

    @ParameterizedTest
    @ValueSource(strings = {"overlayfs", "native"})
    void layersThroughCtr(String sn) throws Exception {
        Path mnt = Files.createTempDirectory(Path.of("/tmp"), "jcdm");
        try {
            ctr(sn, "prepare", "base").assertOk();
            withMounted(sn, "base", mnt, () -> {
                Files.writeString(mnt.resolve("keep.txt"), "v1");
                Files.createDirectories(mnt.resolve("dir/sub"));
                Files.writeString(mnt.resolve("dir/sub/file"), "x");
                sh("chown 1234:5678 " + mnt.resolve("keep.txt") + " && chmod 0640 " + mnt.resolve("keep.txt"));
            });
            ctr(sn, "commit", "base-c", "base").assertOk();

            ctr(sn, "prepare", "child", "base-c").assertOk();
            withMounted(sn, "child", mnt, () -> {
                assertThat(Files.readString(mnt.resolve("keep.txt"))).isEqualTo("v1");
                Files.writeString(mnt.resolve("keep.txt"), "v2");
                sh("rm -rf " + mnt.resolve("dir"));
            });
            ctr(sn, "commit", "child-c", "child").assertOk();

            ctr(sn, "view", "look", "child-c").assertOk();
            withMounted(sn, "look", mnt, () -> {
                assertThat(Files.readString(mnt.resolve("keep.txt"))).isEqualTo("v2");
                assertThat(mnt.resolve("dir")).doesNotExist();
                assertThat(Files.getAttribute(mnt.resolve("keep.txt"), "unix:uid")).isEqualTo(1234);
                assertThat(Files.getAttribute(mnt.resolve("keep.txt"), "unix:mode")).isEqualTo(0100640);
            });

            String ls = ctr(sn, "ls").assertOk().stdout();
            assertThat(ls).containsPattern("base-c\\s+Committed").containsPattern("child-c\\s+base-c\\s+Committed")
                    .containsPattern("look\\s+child-c\\s+View");
            assertThat(ctr(sn, "tree").assertOk().stdout()).contains("base-c").contains("child-c");
            ctr(sn, "label", "child-c", "team=storage").assertOk();
            assertThat(ctr(sn, "info", "child-c").assertOk().stdout()).contains("\"team\": \"storage\"").contains("\"Kind\": \"Committed\"");
            assertThat(ctr(sn, "usage", "base-c").assertOk().stdout()).contains("base-c");

            var busy = ctr(sn, "rm", "base-c");
            assertThat(busy.exitCode()).isNotZero();
            assertThat(busy.stderr()).contains("failed precondition");
            var dup = ctr(sn, "prepare", "child-c");
            assertThat(dup.exitCode()).isNotZero();
            assertThat(dup.stderr()).contains("already exists");

            ctr(sn, "rm", "look").assertOk();
            ctr(sn, "rm", "child-c").assertOk();
            ctr(sn, "rm", "base-c").assertOk();
            assertThat(ctr(sn, "ls").assertOk().stdout()).doesNotContain("base-c");
            // the backend snapshots go when the collector runs
            Path backend = daemon.root().resolve("io.containerd.snapshotter.v1." + sn + "/snapshots");
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (System.nanoTime() < deadline) {
                try (var s = Files.list(backend)) {
                    if (s.findAny().isEmpty()) return;
                }
                Thread.sleep(100);
            }
            try (var s = Files.list(backend)) {
                throw new AssertionError("backend snapshots not collected: " + s.toList());
            }
        } finally {
            DaemonProcess.Cleanup.unmountUnder(mnt);
            DaemonProcess.Cleanup.deleteTree(mnt);
        }
    }
}
