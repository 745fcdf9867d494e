package io.jcontainerd.shim;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIf;

/**
 * Our shim under the real containerd 1.6 and ctr: containerd resolves runtime {@code io.containerd.jcd.v2}
 * to {@code containerd-shim-jcd-v2} on its PATH, which is our shim. Proves the shim is a drop-in for
 * containerd-shim-runc-v2 as the daemon side sees it (start/address, Task API, events, delete cleanup).
 */
@EnabledIf("supported")
@Timeout(300)
class ContainerdInteropTest {
    static final String NS = "jcshimctr";
    static final String RUNTIME = "io.containerd.jcd.v2";
    static Path dir;
    static Process containerd;

    static boolean supported() {
        return ShimTaskTest.supported() && Files.isExecutable(Path.of("/usr/bin/containerd")) && Files.isExecutable(Path.of("/usr/bin/ctr"))
                && Files.isExecutable(Path.of("/usr/bin/umoci")) && Files.isExecutable(Path.of("/usr/bin/skopeo"));
    }

    @BeforeAll
    static void startContainerd() throws Exception {
        dir = Files.createTempDirectory(Path.of("/tmp"), "jcsctr");
        // a busybox image, offline
        sh("umoci init --layout img && umoci new --image img:latest && umoci unpack --rootless --image img:latest b"
                + " && mkdir -p b/rootfs/bin && cp /bin/busybox b/rootfs/bin/"
                + " && for a in sh echo sleep true cat; do ln -s busybox b/rootfs/bin/$a; done"
                + " && umoci repack --image img:latest b && umoci config --image img:latest --config.cmd /bin/sh --config.env PATH=/bin"
                + " && skopeo copy -q oci:img:latest docker-archive:busybox.tar:docker.io/library/busybox:latest");
        Files.createDirectories(dir.resolve("bin"));
        Files.createSymbolicLink(dir.resolve("bin/containerd-shim-jcd-v2"), JavaShim.launcher());
        Files.writeString(dir.resolve("config.toml"), """
                version = 2
                root = "%1$s/root"
                state = "%1$s/state"
                disabled_plugins = ["io.containerd.grpc.v1.cri"]
                [grpc]
                  address = "%1$s/c.sock"
                """.formatted(dir));
        ProcessBuilder pb = new ProcessBuilder("/usr/bin/containerd", "--config", dir.resolve("config.toml").toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("containerd.log").toFile());
        pb.environment().put("PATH", dir.resolve("bin") + ":" + System.getenv("PATH"));
        containerd = pb.start();
        for (int i = 0; i < 100 && ctr("version").status() != 0; i++) Thread.sleep(100);
        assertThat(ctr("images", "import", dir.resolve("busybox.tar").toString()).status()).isZero();
    }

    @AfterAll
    static void stopContainerd() throws Exception {
        if (containerd != null) {
            for (String c : ctr("tasks", "ls", "-q").out().lines().toList()) ctr("tasks", "kill", "-s", "KILL", c);
            Thread.sleep(500);
            for (String c : ctr("containers", "ls", "-q").out().lines().toList()) {
                ctr("tasks", "rm", "-f", c);
                ctr("containers", "rm", c);
            }
            containerd.destroy();
            containerd.waitFor(20, TimeUnit.SECONDS);
            try {
                Files.deleteIfExists(Path.of("/run/containerd/runc", NS));
            } catch (java.nio.file.DirectoryNotEmptyException inUse) {
                // a container outlived the test: left for inspection
            }
        }
        if (dir != null) {
            sh("grep ' " + dir + "' /proc/mounts | awk '{print $2}' | sort -r | xargs -r -n1 umount -l; true");
            try (var walk = Files.walk(dir)) {
                for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
            }
        }
    }

    record Result(int status, String out) {}

    static Result ctr(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("ctr", "-a", dir.resolve("c.sock").toString(), "-n", NS));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return new Result(-1, out);
        }
        return new Result(p.exitValue(), out);
    }

    static void sh(String script) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("sh", "-c", script).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) throw new IOException(script + ": " + out);
    }

    @Test
    void ctrRunThroughOurShim() throws Exception {
        Result hi = ctr("run", "--rm", "--runtime", RUNTIME, "docker.io/library/busybox:latest", "t1", "echo", "hi");
        assertThat(hi.out()).isEqualTo("hi\n");
        assertThat(hi.status()).isZero();
        Result three = ctr("run", "--rm", "--runtime", RUNTIME, "docker.io/library/busybox:latest", "t2", "sh", "-c", "exit 3");
        assertThat(three.status()).as(three.out()).isEqualTo(3);
    }

    @Test
    void detachedTaskExecPsPauseKill() throws Exception {
        assertThat(ctr("run", "-d", "--runtime", RUNTIME, "docker.io/library/busybox:latest", "d1", "sleep", "1000").status()).isZero();
        assertThat(ctr("tasks", "ls").out()).containsPattern("d1\\s+\\d+\\s+RUNNING");
        Result exec = ctr("tasks", "exec", "--exec-id", "e1", "d1", "sh", "-c", "echo from-exec");
        assertThat(exec.out()).isEqualTo("from-exec\n");
        assertThat(ctr("tasks", "ps", "d1").out().lines().count()).isGreaterThanOrEqualTo(2);
        assertThat(ctr("tasks", "pause", "d1").status()).isZero();
        assertThat(ctr("tasks", "ls").out()).containsPattern("d1\\s+\\d+\\s+PAUSED");
        assertThat(ctr("tasks", "resume", "d1").status()).isZero();
        assertThat(ctr("tasks", "metrics", "d1").out()).contains("memory");
        assertThat(ctr("tasks", "kill", "-s", "KILL", "d1").status()).isZero();
        for (int i = 0; i < 100 && !ctr("tasks", "ls").out().contains("STOPPED"); i++) Thread.sleep(100);
        assertThat(ctr("tasks", "ls").out()).containsPattern("d1\\s+\\d+\\s+STOPPED");
        assertThat(ctr("tasks", "rm", "d1").status()).isZero();
        assertThat(ctr("containers", "rm", "d1").status()).isZero();
    }
}
