package io.jcontainerd.it;

import static io.jcontainerd.it.ContentClient.commit;
import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.jcontainerd.testing.Ctr;
import io.jcontainerd.testing.DaemonProcess;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Garbage collection end to end: the real daemon with its default scheduler settings, blobs on disk
 * under root/io.containerd.content.v1.content, driven by the real {@code ctr} (plus gRPC where ctr has no
 * way to attach a lease or labels at commit).
 */
class GcCtrTest {
    static DaemonProcess daemon;
    static Path work;
    static int metricsPort;
    static final Random RND = new Random();

    @BeforeAll
    static void start() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            metricsPort = s.getLocalPort();
        }
        daemon = DaemonProcess.start("""
                version = 2
                [metrics]
                  address = "127.0.0.1:%d"
                """.formatted(metricsPort));
        work = Files.createTempDirectory(Path.of("/tmp"), "jcdg");
    }

    @AfterAll
    static void stop() {
        if (daemon != null) daemon.close();
        if (work != null) DaemonProcess.Cleanup.deleteTree(work);
    }

    static Ctr.Result ctr(String ns, String... args) {
        List<String> all = new ArrayList<>(List.of("-n", ns));
        all.addAll(List.of(args));
        return Ctr.run(daemon.address(), all.toArray(String[]::new));
    }

    /** {@code ctr content ingest} with {@code data} on its standard input. */
    static String ingest(String ns, String ref, byte[] data) throws Exception {
        Path f = Files.write(work.resolve(ref), data);
        List<String> cmd = List.of(Ctr.BINARY, "--address", daemon.address(), "-n", ns, "content", "ingest", ref);
        Process p = new ProcessBuilder(cmd).redirectInput(f.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("ctr content ingest: " + out).isZero();
        return ContentClient.sha256(data);
    }

    static Path blobFile(String dgst) {
        return daemon.root().resolve("io.containerd.content.v1.content/blobs/sha256").resolve(dgst.substring("sha256:".length()));
    }

    static byte[] random(int size) {
        byte[] b = new byte[size];
        RND.nextBytes(b);
        return b;
    }

    /** A collection that starts after this call has finished: {@code ctr leases rm --sync} of a throwaway lease. */
    static void collect(String ns) {
        String id = "gc-trigger-" + System.nanoTime();
        ctr(ns, "leases", "create", "--id", id).assertOk();
        ctr(ns, "leases", "rm", "--sync", id).assertOk();
    }

    static boolean visible(String ns, String dgst) {
        try {
            ContentClient.info(daemon.channel(), ns, dgst);
            return true;
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() == Status.Code.NOT_FOUND) return false;
            throw e;
        }
    }

    static void await(BooleanSupplier cond, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting until " + what + "\n" + daemon.logText());
            Thread.sleep(50);
        }
    }

    @Test
    void blobOfAnExpiredLeaseGoesFromDiskAfterContentRmAndGc() throws Exception {
        String ns = "gc-expired";
        // the lease lives long enough to ingest under it, then expires
        Instant expiry = Instant.now().plusSeconds(3).truncatedTo(ChronoUnit.SECONDS);
        ctr(ns, "leases", "create", "--id", "short", "--expires", "0", "containerd.io/gc.expire=" + expiry).assertOk();
        String removed = commit(daemon.channel(), ns, "short", "removed", random(4096), Map.of());
        String kept = commit(daemon.channel(), ns, "short", "also-leased", random(8192), Map.of());
        assertThat(blobFile(removed)).exists();
        assertThat(blobFile(kept)).exists();
        // while the lease is live a collection keeps both
        collect(ns);
        assertThat(blobFile(removed)).exists();
        assertThat(blobFile(kept)).exists();

        while (Instant.now().isBefore(expiry.plusMillis(200))) Thread.sleep(100);
        assertThat(ctr(ns, "content", "rm", removed).assertOk().stdout().trim()).isEqualTo(removed);
        assertThat(ctr(ns, "content", "ls", "-q").assertOk().stdout()).doesNotContain(removed);
        // the delete marks the database dirty: the scheduler collects on its own (default thresholds),
        // and the expired lease no longer holds the other blob either
        await(() -> !Files.exists(blobFile(removed)), "the removed blob is gone from disk");
        await(() -> !Files.exists(blobFile(kept)), "the expired lease's other blob is gone from disk");
        assertThat(visible(ns, kept)).isFalse();
        assertThat(ctr(ns, "leases", "ls", "-q").assertOk().stdout()).doesNotContain("short");
    }

    @Test
    void blobHeldByALiveLeaseSurvivesGcUntilTheLeaseIsRemoved() throws Exception {
        String ns = "gc-live";
        ctr(ns, "leases", "create", "--id", "keep").assertOk(); // ctr's default: expires in 24h
        byte[] data = random(64 * 1024);
        String held = commit(daemon.channel(), ns, "keep", "held", data, Map.of());
        String loose = ingest(ns, "loose", random(1000)); // no lease: nothing references it
        assertThat(blobFile(held)).exists();

        collect(ns);
        assertThat(blobFile(loose)).doesNotExist();
        assertThat(blobFile(held)).exists();
        assertThat(ctr(ns, "content", "ls", "-q").assertOk().stdout()).contains(held).doesNotContain(loose);
        assertThat(ctr(ns, "content", "get", held).assertOk().stdout().getBytes(StandardCharsets.ISO_8859_1).length)
                .isPositive();
        assertThat(ContentClient.read(daemon.channel(), ns, held)).isEqualTo(data);
        collect(ns);
        assertThat(blobFile(held)).exists();

        assertThat(ctr(ns, "leases", "rm", "--sync", "keep").assertOk().stdout().trim()).isEqualTo("keep");
        assertThat(blobFile(held)).doesNotExist();
        assertThat(ctr(ns, "content", "ls", "-q").assertOk().stdout()).doesNotContain(held);
        assertThat(visible(ns, held)).isFalse();
    }

    @Test
    void blobsReferencedFromAGcRootSurvive() throws Exception {
        String ns = "gc-root";
        byte[] childData = random(2048), grandchildData = random(3072);
        String child = ContentClient.sha256(childData), grandchild = ContentClient.sha256(grandchildData);
        // the root first, so nothing is ever unreferenced: root → child → grandchild
        String root = commit(daemon.channel(), ns, null, "root", random(512),
                Map.of("containerd.io/gc.root", "2026-01-01T00:00:00Z", "containerd.io/gc.ref.content.layer.0", child));
        assertThat(ingest(ns, "child", childData)).isEqualTo(child);
        assertThat(ctr(ns, "content", "label", child, "containerd.io/gc.ref.content.m=" + grandchild).assertOk().stdout())
                .contains("containerd.io/gc.ref.content.m=" + grandchild);
        assertThat(ingest(ns, "grandchild", grandchildData)).isEqualTo(grandchild);
        String orphan = ingest(ns, "orphan", random(100));

        collect(ns);
        assertThat(blobFile(orphan)).doesNotExist();
        for (String d : List.of(root, child, grandchild)) {
            assertThat(blobFile(d)).as(d).exists();
            assertThat(visible(ns, d)).as(d).isTrue();
        }

        // dropping the root label leaves the whole chain unreferenced
        ctr(ns, "content", "label", root, "containerd.io/gc.root=").assertOk();
        collect(ns);
        for (String d : List.of(root, child, grandchild)) {
            assertThat(blobFile(d)).as(d).doesNotExist();
            assertThat(visible(ns, d)).as(d).isFalse();
        }
    }

    @Test
    void contentPruneReferencesDropsLayerLabelsAndCollectsTheLayers() throws Exception {
        String ns = "gc-prune";
        byte[] layerData = random(4096), legacyLayerData = random(2048), configData = random(1024);
        String layer = ContentClient.sha256(layerData), legacyLayer = ContentClient.sha256(legacyLayerData),
                config = ContentClient.sha256(configData);
        // a manifest-like root referencing a layer (current label), a layer (legacy numbered label) and its
        // config (legacy index 0, which ctr keeps)
        String root = commit(daemon.channel(), ns, null, "manifest", random(512), Map.of(
                "containerd.io/gc.root", "2026-01-01T00:00:00Z",
                "containerd.io/gc.ref.content.l.0", layer,
                "containerd.io/gc.ref.content.1", legacyLayer,
                "containerd.io/gc.ref.content.0", config));
        for (byte[] d : List.of(layerData, legacyLayerData, configData)) ingest(ns, "blob-" + d.length, d);
        collect(ns);
        for (String d : List.of(root, layer, legacyLayer, config)) assertThat(blobFile(d)).as(d).exists();

        // the real ctr: walk, drop layer references with field-path updates, then a synchronous collection
        ctr(ns, "content", "prune", "references").assertOk();
        assertThat(blobFile(layer)).doesNotExist();
        assertThat(blobFile(legacyLayer)).doesNotExist();
        assertThat(blobFile(root)).exists();
        assertThat(blobFile(config)).exists();
        assertThat(ctr(ns, "content", "ls").assertOk().stdout())
                .contains("containerd.io/gc.ref.content.0=" + config)
                .doesNotContain("containerd.io/gc.ref.content.l.0", "containerd.io/gc.ref.content.1=");
        ctr(ns, "content", "label", root, "containerd.io/gc.root=").assertOk();
        collect(ns);
    }

    @Test
    void gcMetricsAreServed() throws Exception {
        String ns = "gc-metrics";
        double before = metric("jcontainerd_gc_collections_total");
        ingest(ns, "orphan", random(10));
        collect(ns);
        String text = scrape();
        assertThat(metric("jcontainerd_gc_collections_total")).isGreaterThan(before);
        assertThat(text).containsPattern("jcontainerd_gc_removed_total\\{type=\"content\"} [1-9]")
                .contains("jcontainerd_gc_failures_total 0.0", "jcontainerd_gc_pause_seconds_total",
                        "jcontainerd_gc_last_pause_seconds", "jcontainerd_gc_cleanup_failures_total 0.0");
    }

    static String scrape() throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort + "/v1/metrics")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        return r.body();
    }

    static double metric(String name) throws Exception {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + " (\\S+)$").matcher(scrape());
        assertThat(m.find()).as(name + " is exported").isTrue();
        return Double.parseDouble(m.group(1));
    }
}
