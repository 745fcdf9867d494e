package io.jcontainerd.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.jcontainerd.api.services.tasks.v1.DeleteTaskRequest;
import io.jcontainerd.api.services.tasks.v1.GetRequest;
import io.jcontainerd.api.services.tasks.v1.KillRequest;
import io.jcontainerd.api.services.tasks.v1.StartRequest;
import io.jcontainerd.api.services.tasks.v1.WaitRequest;
import io.jcontainerd.testing.Ctr;
import io.jcontainerd.testing.DaemonProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIf;

/** Restart recovery when a shim died while the daemon was down, and the configurable shim binary. */
@EnabledIf("io.jcontainerd.it.TaskFixture#available")
@Timeout(180)
class TaskRecoveryTest {

    @Test
    void shimThatDiedWhileTheDaemonWasDownIsCleanedUpAtBoot() throws Exception {
        try (DaemonProcess daemon = DaemonProcess.start(); TaskFixture fx = new TaskFixture(daemon, "jcrr")) {
            fx.container("r1", "sleep", "1000");
            fx.container("r2", "sleep", "1000");
            int pid1 = fx.createTask(fx.createRequest("r1").build());
            fx.tasks().start(StartRequest.newBuilder().setContainerId("r1").build());
            int pid2 = fx.createTask(fx.createRequest("r2").build());
            fx.tasks().start(StartRequest.newBuilder().setContainerId("r2").build());
            // the shim's log reaches the daemon's log through the bundle's log FIFO
            awaitLog(daemon, "starting signal loop");

            assertThat(daemon.terminate(Duration.ofSeconds(20))).isZero();
            var shim = fx.shims("r1").getFirst();
            shim.destroyForcibly();
            shim.onExit().get(10, TimeUnit.SECONDS);
            daemon.restart();

            String ls = Ctr.run(daemon.address(), "-n", "jcrr", "tasks", "ls").assertOk().stdout();
            assertThat(ls).doesNotContain("r1").containsPattern("r2\\s+" + pid2 + "\\s+RUNNING");
            assertThat(fx.bundle("r1")).doesNotExist();
            assertThat(daemon.root().resolve("io.containerd.runtime.v2.task/jcrr/r1")).doesNotExist();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (ProcessHandle.of(pid1).map(ProcessHandle::isAlive).orElse(false) && System.nanoTime() < deadline) Thread.sleep(20);
            assertThat(ProcessHandle.of(pid1).map(ProcessHandle::isAlive).orElse(false)).isFalse();
            assertThat(daemon.logText()).contains("cleaning up after shim disconnected id=r1");

            // a task can be created again for r1, and r2 is still controllable
            fx.createTask(fx.createRequest("r1").build());
            fx.tasks().delete(DeleteTaskRequest.newBuilder().setContainerId("r1").build());
            fx.tasks().kill(KillRequest.newBuilder().setContainerId("r2").setSignal(9).build());
            assertThat(fx.tasks().withDeadlineAfter(30, TimeUnit.SECONDS).wait(WaitRequest.newBuilder().setContainerId("r2").build())
                    .getExitStatus()).isEqualTo(137);
            fx.tasks().delete(DeleteTaskRequest.newBuilder().setContainerId("r2").build());
        }
    }

    @Test
    void runtimeShimBinaryComesFromTheConfig() throws Exception {
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "jcsh");
        Path wrapper = dir.resolve("my-shim");
        Files.writeString(wrapper, "#!/bin/sh\nexec " + TaskFixture.SHIM + " \"$@\"\n");
        Files.setPosixFilePermissions(wrapper, PosixFilePermissions.fromString("rwxr-xr-x"));
        String config = "version = 2\n[plugins.\"io.containerd.runtime.v2.task\".runtimes.\"io.containerd.runc.v2\"]\n"
                + "shim_binary = \"" + wrapper + "\"\n";
        try (DaemonProcess daemon = DaemonProcess.start(config); TaskFixture fx = new TaskFixture(daemon, "jcrc")) {
            fx.container("c1", "true");
            fx.createTask(fx.createRequest("c1").build());
            assertThat(Files.readString(fx.bundle("c1").resolve("shim-binary-path"))).isEqualTo(wrapper.toString());
            fx.tasks().start(StartRequest.newBuilder().setContainerId("c1").build());
            assertThat(fx.tasks().withDeadlineAfter(30, TimeUnit.SECONDS).wait(WaitRequest.newBuilder().setContainerId("c1").build())
                    .getExitStatus()).isZero();
            fx.tasks().delete(DeleteTaskRequest.newBuilder().setContainerId("c1").build());
            assertThat(TasksAcceptanceTest.codeOf(() -> fx.tasks().get(GetRequest.newBuilder().setContainerId("c1").build())))
                    .isEqualTo(Status.Code.NOT_FOUND);
        } finally {
            DaemonProcess.Cleanup.deleteTree(dir);
        }
    }

    private static void awaitLog(DaemonProcess daemon, String text) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!daemon.logText().contains(text)) {
            if (System.nanoTime() > deadline) throw new AssertionError("daemon log lacks \"" + text + "\":\n" + daemon.logText());
            Thread.sleep(50);
        }
    }
}
