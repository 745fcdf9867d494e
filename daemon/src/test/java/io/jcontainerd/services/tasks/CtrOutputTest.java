package io.jcontainerd.services.tasks;

import static org.assertj.core.api.Assertions.assertThat;

import io.jcontainerd.testing.Ctr;
import io.jcontainerd.testing.DaemonProcess;
import io.jcontainerd.testing.TestImages;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIf;

/**
 * Output through the real ctr: large output arrives whole and in order, and processes that print and
 * exit at once lose nothing (the shim must drain their stdio before it reports the exit).
 */
@EnabledIf("available")
@Timeout(300)
class CtrOutputTest {
    static final String IMAGE = "docker.io/library/busybox:latest";
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

    /** Checks on the fly that a stream is exactly the lines "1".."n" (what {@code seq 1 n} prints), never storing it. */
    static final class SeqChecker {
        long expected = 1, current = 0, bytes = 0;
        boolean inLine;
        String firstError;

        void feed(byte[] b, int len) {
            bytes += len;
            for (int i = 0; i < len && firstError == null; i++) {
                byte c = b[i];
                if (c == '\n') {
                    if (!inLine || current != expected) {
                        firstError = "line " + expected + " read as " + (inLine ? current : "(empty)") + " at byte " + (bytes - len + i);
                    }
                    expected++;
                    current = 0;
                    inLine = false;
                } else if (c >= '0' && c <= '9') {
                    current = current * 10 + (c - '0');
                    inLine = true;
                } else {
                    firstError = "unexpected byte " + c + " at byte " + (bytes - len + i);
                }
            }
        }

        long lines() {
            return expected - 1;
        }
    }

    /** The byte count of {@code seq 1 n}'s output. */
    static long seqBytes(long n) {
        long total = 0;
        for (long lo = 1, digits = 1; lo <= n; lo *= 10, digits++) total += (Math.min(n, lo * 10 - 1) - lo + 1) * (digits + 1);
        return total;
    }

    @Test
    void hundredMegabytesOfStdoutArriveWholeAndInOrder() throws Exception {
        long n = 14_000_000; // just over 100 MiB of decimal lines
        long size = seqBytes(n);
        assertThat(size).isGreaterThan(100L << 20);
        Process ctr = new ProcessBuilder(Ctr.BINARY, "--address", daemon.address(), "run", "--rm", IMAGE, "big-out",
                "/bin/busybox", "seq", "1", Long.toString(n))
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        SeqChecker check = new SeqChecker();
        long t0 = System.nanoTime();
        try (InputStream in = new BufferedInputStream(ctr.getInputStream(), 1 << 16)) {
            byte[] buf = new byte[1 << 16];
            int r;
            while ((r = in.read(buf)) > 0) check.feed(buf, r);
        } finally {
            if (!ctr.waitFor(120, TimeUnit.SECONDS)) ctr.destroyForcibly().waitFor();
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        System.out.printf("100 MiB test: %d bytes through ctr run --rm in %.2f s (%.0f MiB/s)%n", check.bytes, seconds,
                check.bytes / seconds / (1 << 20));
        assertThat(ctr.exitValue()).isZero();
        assertThat(check.firstError).isNull();
        assertThat(check.lines()).isEqualTo(n);
        assertThat(check.bytes).isEqualTo(size);
        assertThat(Ctr.run(daemon.address(), "containers", "ls", "-q").assertOk().stdout()).doesNotContain("big-out");
    }

    @Test
    void manyProcessesThatPrintAndExitAtOnceLoseNoOutputInOneRun() {
        // 500 separate /bin/echo processes, each exiting right after its write
        var r = Ctr.run(daemon.address(), "run", "--rm", IMAGE, "many-echo", "/bin/sh", "-c",
                "i=1; while [ $i -le 500 ]; do /bin/echo line-$i; i=$((i+1)); done").assertOk();
        List<String> want = new ArrayList<>();
        for (int i = 1; i <= 500; i++) want.add("line-" + i);
        assertThat(r.stdout().lines().toList()).isEqualTo(want);
    }

    @Test
    void everyShortRunDeliversItsOutput() {
        for (int i = 0; i < 40; i++) {
            var r = Ctr.run(daemon.address(), "run", "--rm", IMAGE, "short-" + i, "/bin/echo", "x-" + i);
            assertThat(r.exitCode()).as("run %d: %s", i, r.stderr()).isZero();
            assertThat(r.stdout()).as("run %d", i).isEqualTo("x-" + i + "\n");
        }
        assertThat(Ctr.run(daemon.address(), "containers", "ls", "-q").assertOk().stdout()).doesNotContain("short-");
    }

    @Test
    void everyShortExecDeliversItsOutput() throws IOException {
        Ctr.run(daemon.address(), "run", "-d", IMAGE, "exec-host", "/bin/sleep", "600").assertOk();
        try {
            for (int i = 0; i < 200; i++) {
                var r = Ctr.run(daemon.address(), "tasks", "exec", "--exec-id", "e" + i, "exec-host", "/bin/echo", "exec-" + i);
                assertThat(r.exitCode()).as("exec %d: %s", i, r.stderr()).isZero();
                assertThat(r.stdout()).as("exec %d", i).isEqualTo("exec-" + i + "\n");
            }
        } finally {
            Ctr.run(daemon.address(), "tasks", "rm", "-f", "exec-host");
            Ctr.run(daemon.address(), "containers", "rm", "exec-host");
        }
    }
}
