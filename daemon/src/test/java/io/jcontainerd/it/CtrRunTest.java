package io.jcontainerd.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.jcontainerd.testing.Ctr;
import io.jcontainerd.testing.DaemonProcess;
import io.jcontainerd.testing.TestImages;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The whole path with the real ctr: import → unpack → container → task (shim, runc) → output → cleanup. */
class CtrRunTest {
    static DaemonProcess daemon;

    @BeforeAll
    static void start() throws Exception {
        daemon = DaemonProcess.start();
        Ctr.run(daemon.address(), "images", "import", TestImages.busybox().resolve("busybox-docker.tar").toString()).assertOk();
    }

    @AfterAll
    static void stop() {
        if (daemon != null) daemon.close();
    }

    @Test
    void runRemovePrintsOutputAndLeavesNothing() {
        var r = Ctr.run(daemon.address(), "run", "--rm", "docker.io/library/busybox:latest", "hello", "/bin/echo", "hi from jcontainerd").assertOk();
        assertThat(r.stdout()).contains("hi from jcontainerd");
        assertThat(Ctr.run(daemon.address(), "containers", "ls", "-q").assertOk().stdout()).doesNotContain("hello");
        assertThat(Ctr.run(daemon.address(), "tasks", "ls").assertOk().stdout()).doesNotContain("hello");
    }

    @Test
    void exitCodeOfTheContainerIsCtrsExitCode() {
        var r = Ctr.run(daemon.address(), "run", "--rm", "docker.io/library/busybox:latest", "failing", "/bin/sh", "-c", "exit 7");
        assertThat(r.exitCode()).isEqualTo(7);
    }

    @Test
    void detachedTaskCanBeListedAndKilled() throws Exception {
        String a = daemon.address();
        Ctr.run(a, "run", "-d", "docker.io/library/busybox:latest", "sleeper", "/bin/sleep", "600").assertOk();
        try {
            assertThat(Ctr.run(a, "tasks", "ls").assertOk().stdout()).containsPattern("sleeper\\s+\\d+\\s+RUNNING");
            Ctr.run(a, "tasks", "kill", "-s", "SIGKILL", "sleeper").assertOk();
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (System.nanoTime() < deadline && !Ctr.run(a, "tasks", "ls").stdout().contains("STOPPED")) Thread.sleep(50);
            assertThat(Ctr.run(a, "tasks", "ls").assertOk().stdout()).containsPattern("sleeper\\s+\\d+\\s+STOPPED");
        } finally {
            Ctr.run(a, "tasks", "rm", "-f", "sleeper");
            Ctr.run(a, "containers", "rm", "sleeper");
        }
        assertThat(Ctr.run(a, "containers", "ls", "-q").assertOk().stdout()).doesNotContain("sleeper");
    }

    @Test
    void runningTasksSurviveKillNineOfTheDaemon() throws Exception {
        try (DaemonProcess d = DaemonProcess.start()) {
            String a = d.address();
            Ctr.run(a, "images", "import", TestImages.busybox().resolve("busybox-docker.tar").toString()).assertOk();
            Ctr.run(a, "run", "-d", "docker.io/library/busybox:latest", "survivor", "/bin/sleep", "600").assertOk();
            try {
                d.kill();
                d.restart();
                assertThat(Ctr.run(a, "tasks", "ls").assertOk().stdout()).containsPattern("survivor\\s+\\d+\\s+RUNNING");
                var exec = Ctr.run(a, "tasks", "exec", "--exec-id", "after", "survivor", "/bin/echo", "still here").assertOk();
                assertThat(exec.stdout()).contains("still here");
                Ctr.run(a, "tasks", "kill", "-s", "SIGKILL", "survivor").assertOk();
                long deadline = System.nanoTime() + 10_000_000_000L;
                while (System.nanoTime() < deadline && !Ctr.run(a, "tasks", "ls").stdout().contains("STOPPED")) Thread.sleep(50);
                assertThat(Ctr.run(a, "tasks", "ls").assertOk().stdout()).containsPattern("survivor\\s+\\d+\\s+STOPPED");
                Ctr.run(a, "tasks", "rm", "survivor").assertOk();
            } finally {
                Ctr.run(a, "tasks", "rm", "-f", "survivor");
                Ctr.run(a, "containers", "rm", "survivor");
            }
            assertThat(Ctr.run(a, "tasks", "ls").assertOk().stdout()).doesNotContain("survivor");
        }
    }
}
