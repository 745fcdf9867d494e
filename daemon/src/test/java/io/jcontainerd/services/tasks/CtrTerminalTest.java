package io.jcontainerd.services.tasks;

import static org.assertj.core.api.Assertions.assertThat;

import io.jcontainerd.testing.Ctr;
import io.jcontainerd.testing.DaemonProcess;
import io.jcontainerd.testing.TestImages;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIf;

/**
 * {@code ctr run -t} as a person uses it: ctr on a terminal (a pty the test holds), an interactive busybox
 * shell in the container behind the shim's console, keystrokes in, screen out, the shell's exit code as
 * ctr's.
 */
@EnabledIf("available")
@Timeout(120)
class CtrTerminalTest {
    static DaemonProcess daemon;

    static boolean available() {
        return "root".equals(System.getProperty("user.name")) && Files.isExecutable(Path.of("/usr/sbin/runc"))
                && Files.isExecutable(Path.of("/usr/bin/containerd-shim-runc-v2")) && Files.isExecutable(Path.of(Ctr.BINARY));
    }

    @BeforeAll
    static void start() throws Exception {
        daemon = DaemonProcess.start();
        Ctr.run(daemon.address(), "images", "import", TestImages.busybox().resolve("busybox-docker.tar").toString()).assertOk();
    }

    @AfterAll
    static void stop() {
        if (daemon != null) daemon.close();
    }

    /** What the terminal has shown so far, appended to by a reader thread. */
    static final class Screen {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private boolean ended;

        synchronized void add(byte[] b) {
            if (b == null) ended = true;
            else bytes.write(b, 0, b.length);
            notifyAll();
        }

        /** Waits until nothing new has shown for {@code millis} (a person waits for the screen to settle before typing). */
        synchronized void settle(long millis) throws InterruptedException {
            int seen;
            do {
                seen = bytes.size();
                wait(millis);
            } while (bytes.size() != seen && !ended);
        }

        synchronized String text() {
            return bytes.toString(StandardCharsets.UTF_8);
        }

        /** Waits until the screen shows {@code s} after position {@code from}; returns where it ends. */
        synchronized int await(String s, int from, long seconds) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            while (true) {
                int at = text().indexOf(s, from);
                if (at >= 0) return at + s.length();
                long left = deadline - System.nanoTime();
                if (left <= 0 || ended) throw new AssertionError("terminal never showed " + s + "; screen:\n" + text());
                TimeUnit.NANOSECONDS.timedWait(this, left);
            }
        }
    }

    @Test
    void interactiveShellRunsCommandsAndItsExitCodeIsCtrs() throws Exception {
        try (Pty pty = new Pty(24, 80)) {
            // one read-write descriptor on all three streams, as a terminal gives: ctr's console is the first
            // stream that is a tty (stderr), and it reads the keyboard from it
            Process ctr = new ProcessBuilder("/bin/sh", "-c", "exec \"$@\" <>\"$0\" >&0 2>&0", pty.slave().toString(),
                    Ctr.BINARY, "--address", daemon.address(), "run", "-t", "--rm",
                    "docker.io/library/busybox:latest", "tty-shell", "/bin/sh").start();
            Screen screen = new Screen();
            Thread reader = Thread.ofPlatform().daemon().name("pty-reader").start(() -> {
                try {
                    byte[] b;
                    while ((b = pty.read()) != null) {
                        screen.add(b);
                        // busybox's line editor asks where the cursor is; a terminal answers
                        if (new String(b, StandardCharsets.ISO_8859_1).contains("\033[6n")) pty.write("\033[1;5R");
                    }
                } catch (java.io.IOException e) {
                    // the test fails on what the screen lacks
                }
                screen.add(null);
            });
            try {
                int at = screen.await("# ", 0, 30); // busybox's root prompt
                screen.settle(500); // after the cursor position exchange
                pty.write("echo hello-$((6*7))\r");
                // the echo of the typed line shows the expression; only the shell's output shows the value
                at = screen.await("hello-42", at, 20);
                at = screen.await("# ", at, 10);
                screen.settle(500);
                pty.write("exit 7\r");
                assertThat(ctr.waitFor(30, TimeUnit.SECONDS)).as("ctr exits after the shell does").isTrue();
                assertThat(ctr.exitValue()).isEqualTo(7);
                reader.join(10_000);
                assertThat(screen.text()).contains("echo hello-$((6*7))");
            } finally {
                if (ctr.isAlive()) {
                    ctr.destroyForcibly().waitFor();
                    Ctr.run(daemon.address(), "tasks", "rm", "-f", "tty-shell");
                    Ctr.run(daemon.address(), "containers", "rm", "tty-shell");
                }
                reader.join(10_000);
            }
        }
        assertThat(Ctr.run(daemon.address(), "containers", "ls", "-q").assertOk().stdout()).doesNotContain("tty-shell");
    }
}
