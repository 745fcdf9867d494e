package io.jcontainerd.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.jcontainerd.testing.Ctr;
import io.jcontainerd.testing.DaemonProcess;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The real {@code ctr} against a real jcontainerd process. */
class CtrAcceptanceTest {
    static DaemonProcess daemon;

    @BeforeAll
    static void start() throws Exception {
        daemon = DaemonProcess.start();
    }

    @AfterAll
    static void stop() {
        if (daemon != null) daemon.close();
    }

    @Test
    void versionShowsOurVersionAndRevision() {
        var r = Ctr.run(daemon.address(), "version").assertOk();
        String server = r.stdout().substring(r.stdout().indexOf("Server:"));
        assertThat(server).contains("Version:  0.1.0-SNAPSHOT").containsPattern("Revision: [0-9a-f]{40}|Revision: unknown")
                .containsPattern("UUID: [0-9a-f-]{36}");
    }

    @Test
    void pluginsListShowsTypeIdAndStatus() {
        var r = Ctr.run(daemon.address(), "plugins", "ls").assertOk();
        assertThat(r.stdout()).contains("TYPE", "ID", "PLATFORMS", "STATUS");
        assertThat(r.stdout()).containsPattern("io\\.containerd\\.grpc\\.v1\\s+version\\s+-\\s+ok");
        assertThat(r.stdout()).containsPattern("io\\.containerd\\.grpc\\.v1\\s+introspection\\s+-\\s+ok");
        assertThat(r.stdout()).containsPattern("io\\.containerd\\.metadata\\.v1\\s+sqlite\\s+-\\s+ok");
        assertThat(r.stdout()).containsPattern("io\\.containerd\\.event\\.v1\\s+exchange\\s+-\\s+ok");
        assertThat(r.stdout()).containsPattern("io\\.containerd\\.snapshotter\\.v1\\s+overlayfs\\s+linux/amd64\\s+ok");
        assertThat(r.stdout()).containsPattern("io\\.containerd\\.snapshotter\\.v1\\s+btrfs\\s+linux/amd64\\s+skip");

        var detailed = Ctr.run(daemon.address(), "plugins", "ls", "-d").assertOk();
        assertThat(detailed.stdout()).contains("Type:", "io.containerd.grpc.v1", "ID:", "namespaces", "Requires:", "io.containerd.metadata.v1");

        var filtered = Ctr.run(daemon.address(), "plugins", "ls", "type==io.containerd.metadata.v1").assertOk();
        assertThat(filtered.stdout()).contains("sqlite").doesNotContain("introspection");
    }

    @Test
    void namespacesCreateLabelListRemove() {
        Ctr.run(daemon.address(), "namespaces", "create", "team-a", "owner=alice").assertOk();
        Ctr.run(daemon.address(), "namespaces", "label", "team-a", "tier=gold").assertOk();
        var ls = Ctr.run(daemon.address(), "namespaces", "ls").assertOk();
        assertThat(ls.stdout()).containsPattern("team-a\\s+owner=alice,tier=gold");
        var dup = Ctr.run(daemon.address(), "namespaces", "create", "team-a");
        assertThat(dup.exitCode()).isNotZero();
        assertThat(dup.stderr()).contains("already exists");
        Ctr.run(daemon.address(), "namespaces", "rm", "team-a").assertOk();
        assertThat(Ctr.run(daemon.address(), "namespaces", "ls", "-q").assertOk().stdout()).doesNotContain("team-a");
    }

    @Test
    void invalidNamespaceNameIsRejectedAndDaemonKeepsServing() {
        var r = Ctr.run(daemon.address(), "namespaces", "create", "Bad_Name!");
        assertThat(r.exitCode()).isNotZero();
        assertThat(r.stderr()).contains("invalid argument").contains("identifier");
        Ctr.run(daemon.address(), "version").assertOk();
    }

    @Test
    void oversizedLabelIsRejected() {
        var r = Ctr.run(daemon.address(), "namespaces", "create", "big", "k=" + "x".repeat(5000));
        assertThat(r.exitCode()).isNotZero();
        assertThat(r.stderr()).contains("invalid argument").contains("label key and value greater than maximum size");
        assertThat(Ctr.run(daemon.address(), "namespaces", "ls", "-q").assertOk().stdout()).doesNotContain("big");
    }

    @Test
    void badPluginFilterIsInvalidArgumentWithPosition() {
        var r = Ctr.run(daemon.address(), "plugins", "ls", "type==");
        assertThat(r.exitCode()).isNotZero();
        assertThat(r.stderr()).contains("invalid argument").contains("position");
        Ctr.run(daemon.address(), "version").assertOk();
    }

    @Test
    void eventsStreamShowsNamespaceCreate() throws Exception {
        Process events = Ctr.start(daemon.address(), "events");
        try {
            BlockingQueue<String> lines = new ArrayBlockingQueue<>(100);
            Thread.ofVirtual().start(() -> {
                try (var r = new BufferedReader(new InputStreamReader(events.getInputStream(), StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = r.readLine()) != null) lines.offer(line);
                } catch (Exception ignored) {
                    // stream closed when ctr is killed
                }
            });
            // the subscription is set up asynchronously; create until the event shows up
            String seen = null;
            for (int i = 0; i < 50 && seen == null; i++) {
                Ctr.run(daemon.address(), "namespaces", "create", "evt" + i).assertOk();
                String line = lines.poll(200, TimeUnit.MILLISECONDS);
                if (line != null && line.contains("/namespaces/create")) seen = line;
            }
            // ctr decodes the event by its type URL: seeing its fields proves the Any is typed as containerd types it
            assertThat(seen).isNotNull().contains("/namespaces/create").contains("{\"name\":\"evt");
        } finally {
            events.destroyForcibly().waitFor();
        }
    }

    @Test
    void namespacesSurviveRestart() throws Exception {
        try (DaemonProcess d = DaemonProcess.start()) {
            Ctr.run(d.address(), "namespaces", "create", "persist", "a=b").assertOk();
            d.restart();
            assertThat(Ctr.run(d.address(), "namespaces", "ls").assertOk().stdout()).containsPattern("persist\\s+a=b");
        }
    }

    @Test
    void sigtermStopsQuicklyWithExitZeroAndRemovesSocket() throws Exception {
        try (DaemonProcess d = DaemonProcess.start()) {
            long t0 = System.nanoTime();
            int code = d.terminate(Duration.ofSeconds(5));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertThat(code).isZero();
            assertThat(ms).as("stop took %d ms", ms).isLessThan(2000);
            assertThat(d.socket()).doesNotExist();
        }
    }
}
