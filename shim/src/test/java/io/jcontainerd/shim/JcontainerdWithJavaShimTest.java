package io.jcontainerd.shim;

import static org.assertj.core.api.Assertions.assertThat;

import io.jcontainerd.testing.Ctr;
import io.jcontainerd.testing.DaemonProcess;
import io.jcontainerd.testing.TestImages;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The all-Java stack: the jcontainerd daemon (from its build, via bin/jcontainerd) with
 * {@code io.containerd.runc.v2} mapped to this shim, driven by the real ctr.
 */
class JcontainerdWithJavaShimTest {
    static Path dir;
    static Process daemon;
    static String address;

    @BeforeAll
    static void start() throws Exception {
        dir = Files.createTempDirectory(Path.of("/tmp"), "jcjs");
        address = dir.resolve("d.sock").toString();
        Files.writeString(dir.resolve("config.toml"), """
                version = 2
                [plugins."io.containerd.runtime.v2.task".runtimes."io.containerd.runc.v2"]
                  shim_binary = "%s"
                """.formatted(JavaShim.launcher()));
        Path launcher = Path.of(System.getProperty("user.dir")).resolveSibling("bin").resolve("jcontainerd");
        daemon = new ProcessBuilder(launcher.toString(), "--config", dir.resolve("config.toml").toString(),
                "--root", dir.resolve("root").toString(), "--state", dir.resolve("state").toString(), "--address", address)
                .redirectErrorStream(true).redirectOutput(dir.resolve("daemon.log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (Ctr.run(address, "version").exitCode() != 0) {
            if (!daemon.isAlive() || System.nanoTime() > deadline) {
                throw new IOException("daemon did not come up: " + Files.readString(dir.resolve("daemon.log")));
            }
            Thread.sleep(100);
        }
        Ctr.run(address, "images", "import", TestImages.busybox().resolve("busybox-docker.tar").toString()).assertOk();
    }

    @AfterAll
    static void stop() throws Exception {
        if (daemon != null) {
            daemon.destroy();
            if (!daemon.waitFor(10, TimeUnit.SECONDS)) daemon.destroyForcibly().waitFor();
        }
        // shims outlive the daemon by design: stop any started for this test's directory
        new ProcessBuilder("pkill", "-f", "--", "-address " + address).start().waitFor();
        DaemonProcess.Cleanup.unmountUnder(dir);
        DaemonProcess.Cleanup.deleteTree(dir);
    }

    @Test
    void ctrRunThroughOurDaemonAndOurShim() {
        var r = Ctr.run(address, "run", "--rm", "docker.io/library/busybox:latest", "j1", "/bin/echo", "all java").assertOk();
        assertThat(r.stdout()).contains("all java");
        assertThat(Ctr.run(address, "run", "--rm", "docker.io/library/busybox:latest", "j2", "/bin/sh", "-c", "exit 3").exitCode())
                .isEqualTo(3);
    }

    @Test
    void detachedTaskExecAndKill() throws Exception {
        Ctr.run(address, "run", "-d", "docker.io/library/busybox:latest", "j3", "/bin/sleep", "600").assertOk();
        try {
            assertThat(Ctr.run(address, "tasks", "ls").assertOk().stdout()).containsPattern("j3\\s+\\d+\\s+RUNNING");
            var exec = Ctr.run(address, "tasks", "exec", "--exec-id", "e1", "j3", "/bin/echo", "inside").assertOk();
            assertThat(exec.stdout()).contains("inside");
            Ctr.run(address, "tasks", "kill", "-s", "SIGKILL", "j3").assertOk();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (System.nanoTime() < deadline && !Ctr.run(address, "tasks", "ls").stdout().contains("STOPPED")) Thread.sleep(50);
            assertThat(Ctr.run(address, "tasks", "ls").assertOk().stdout()).containsPattern("j3\\s+\\d+\\s+STOPPED");
        } finally {
            Ctr.run(address, "tasks", "rm", "-f", "j3");
            Ctr.run(address, "containers", "rm", "j3");
        }
    }
}
