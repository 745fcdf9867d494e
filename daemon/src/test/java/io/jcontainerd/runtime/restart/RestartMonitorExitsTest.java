package io.jcontainerd.runtime.restart;

import static org.assertj.core.api.Assertions.assertThat;

import io.jcontainerd.testing.Ctr;
import io.jcontainerd.testing.DaemonProcess;
import io.jcontainerd.testing.TestImages;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIf;

/**
 * What a task exit costs the restart monitor, read from its counters on the daemon's metrics endpoint:
 * the exit of an unlabeled container is looked at and dropped without a pass over the namespaces; the
 * exit of a labeled one reconciles that container alone. The interval is an hour, so the only pass is
 * the one at start, and the test's own containers make the only exits: every figure is exact.
 */
@EnabledIf("io.jcontainerd.runtime.restart.RestartMonitorTest#available")
@Timeout(120)
class RestartMonitorExitsTest {
    static final String NS = "restart-exits";
    static final String IMAGE = "docker.io/library/busybox:latest";
    static final String STATUS = "containerd.io/restart.status";
    static DaemonProcess daemon;
    static int metricsPort;

    @BeforeAll
    static void start() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            metricsPort = s.getLocalPort();
        }
        daemon = DaemonProcess.start(DaemonProcess.DEFAULT_CONFIG + """
                [metrics]
                  address = "127.0.0.1:%d"
                [plugins."io.containerd.internal.v1.restart"]
                  interval = "1h"
                """.formatted(metricsPort));
        ctr("images", "import", TestImages.busybox().resolve("busybox-docker.tar").toString()).assertOk();
    }

    @AfterAll
    static void stop() {
        if (daemon == null) return;
        ctr("containers", "label", "x-labeled", STATUS + "=");
        ctr("tasks", "rm", "-f", "x-labeled");
        ctr("containers", "rm", "x-labeled");
        ctr("containers", "rm", "x-plain");
        daemon.close();
    }

    static Ctr.Result ctr(String... args) {
        return Ctr.runIn(daemon.address(), NS, args);
    }

    record Counts(long passes, long exits, long exitReconciles) {}

    static Counts counts() throws Exception {
        String text = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort + "/v1/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        return new Counts(counter(text, "passes"), counter(text, "exits"), counter(text, "exit_reconciles"));
    }

    static long counter(String text, String name) {
        Matcher m = Pattern.compile("(?m)^jcontainerd_restart_monitor_" + name + "_total (\\S+)$").matcher(text);
        assertThat(m.find()).as(name + " is exported").isTrue();
        return (long) Double.parseDouble(m.group(1));
    }

    /** Waits (20 s at most) for the counters to satisfy {@code ok}: an event to wait for, not a delay. */
    static Counts awaitCounts(Predicate<Counts> ok, String what) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        Counts last = counts();
        while (!ok.test(last)) {
            if (System.nanoTime() > deadline) throw new AssertionError(what + " not reached within 20s; last " + last + "\n" + daemon.logText());
            Thread.sleep(20);
            last = counts();
        }
        return last;
    }

    static int pid(String id) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(id) + "\\s+(\\d+)\\s+RUNNING\\s*$").matcher(ctr("tasks", "ls").assertOk().stdout());
        return m.find() ? Integer.parseInt(m.group(1)) : 0;
    }

    @Test
    void anUnlabeledExitIsDroppedWithoutAPassAndALabeledOneReconcilesOnlyItsContainer() throws Exception {
        // the pass at start, and nothing has exited yet
        assertThat(awaitCounts(c -> c.passes() >= 1, "the pass at start")).isEqualTo(new Counts(1, 0, 0));

        ctr("run", "--rm", IMAGE, "x-plain", "/bin/true").assertOk();
        // the monitor counts an exit once it has done all it will do for it (counters only grow: once the
        // awaited figures are reached, anything else the exit caused would show in the others too)
        Counts afterPlain = awaitCounts(c -> c.exits() >= 1, "the unlabeled exit dealt with");
        assertThat(afterPlain).as("no pass, no reconcile for an unlabeled container").isEqualTo(new Counts(1, 1, 0));

        ctr("run", "-d", "--label", STATUS + "=running", IMAGE, "x-labeled", "/bin/sleep", "600").assertOk();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        int first;
        while ((first = pid("x-labeled")) == 0 && System.nanoTime() < deadline) Thread.sleep(20);
        assertThat(first).isPositive();
        ctr("tasks", "kill", "-s", "SIGKILL", "x-labeled").assertOk();
        Counts afterLabeled = awaitCounts(c -> c.exits() >= 2 && c.exitReconciles() >= 1, "the labeled exit reconciled");
        assertThat(afterLabeled).as("its container reconciled on its own, still no pass").isEqualTo(new Counts(1, 2, 1));
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        int second;
        while (((second = pid("x-labeled")) == 0 || second == first) && System.nanoTime() < deadline) Thread.sleep(20);
        assertThat(second).as("restarted").isPositive().isNotEqualTo(first);
    }
}
