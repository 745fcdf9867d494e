package io.jcontainerd.client.images;

import static org.assertj.core.api.Assertions.assertThat;

import io.jcontainerd.client.ContainerdClient;
import io.jcontainerd.client.ContentClient;
import io.jcontainerd.client.ImagesClient;
import io.jcontainerd.client.Mount;
import io.jcontainerd.client.SnapshotsClient;
import io.jcontainerd.client.cli.Jctr;
import io.jcontainerd.client.platforms.Platforms;
import io.jcontainerd.client.reference.Reference;
import io.jcontainerd.client.remotes.Credentials;
import io.jcontainerd.client.remotes.RegistryClient;
import io.jcontainerd.client.testing.GeneratedImages;
import io.jcontainerd.testing.Ctr;
import io.jcontainerd.testing.DaemonProcess;
import io.jcontainerd.testing.Registry;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The ~200 MB generated image (5 gzip layers, ~32 000 files) through a real docker-registry: jctr's
 * pull and unpack with its plain progress lines, the unpacked tree checked file by file, the real
 * {@code ctr} running it, and a pull killed midway resumed with Range requests.
 */
class LargeImagePullTest {
    static DaemonProcess daemon;
    static Registry registry;
    static ContainerdClient client;
    static GeneratedImages.Large large;
    static Reference ref;

    @BeforeAll
    static void start() throws Exception {
        large = GeneratedImages.large();
        daemon = DaemonProcess.start();
        registry = Registry.withResponseLog();
        GeneratedImages.push(large.layout(), registry.host(), "big/large:latest");
        ref = Reference.parse(registry.host() + "/big/large:latest");
        client = ContainerdClient.connect(daemon.address());
    }

    @AfterAll
    static void stop() {
        if (client != null) client.close();
        if (registry != null) registry.close();
        if (daemon != null) daemon.close();
    }

    static RegistryClient.Options plain() {
        return RegistryClient.Options.defaults().withHostsDir(null).withPlainHttp(true).withCredentials(Credentials.anonymous());
    }

    private static final Pattern PROGRESS = Pattern.compile("^(\\S+): (\\w+) \\|[^|]*\\|$");

    @Test
    void pullUnpackCheckAndRunWithCtr() throws Exception {
        StringWriter o = new StringWriter();
        StringWriter e = new StringWriter();
        int code = Jctr.run(new String[] {"-n", "big", "images", "pull", "--plain-http", ref.toString()},
                Map.of("CONTAINERD_ADDRESS", daemon.address()), new PrintWriter(o), new PrintWriter(e));
        assertThat(code).as(e + "\n" + o).isZero();

        // not a terminal: one plain line per state change of each blob, every layer ending unpacked
        Map<String, List<String>> states = new LinkedHashMap<>();
        for (String line : o.toString().split("\n")) {
            Matcher m = PROGRESS.matcher(line);
            if (m.matches()) states.computeIfAbsent(m.group(1), k -> new ArrayList<>()).add(m.group(2));
        }
        assertThat(o.toString()).startsWith(ref + ": resolving").contains("unpacked linux/amd64").containsPattern("done: \\d+\\.\\d+s");
        for (String layer : large.layerDigests()) {
            assertThat(states.get("layer-" + layer)).as(layer).isNotNull()
                    .containsSubsequence("downloading", "done", "unpacking", "unpacked").last().isEqualTo("unpacked");
        }
        assertThat(states.keySet()).filteredOn(k -> k.startsWith("config-") || k.startsWith("manifest-"))
                .hasSize(2).allSatisfy(k -> assertThat(states.get(k)).last().isEqualTo("done"));

        String check = Ctr.run(daemon.address(), "-n", "big", "images", "check").assertOk().stdout();
        assertThat(check).contains(ref.toString()).contains("complete (6/6)");

        // the unpacked tree, through a read-only view of the top snapshot
        ContainerdClient ns = client.withNamespace("big");
        Images.Resolved res = Images.resolve(ns.content(), ns.images().get(ref.toString()).target(), Platforms.defaultMatcher());
        // under a lease: an unreferenced view is garbage to the collector
        String lease = ns.leases().create("large-check", Map.of()).id();
        SnapshotsClient sn = ns.withLease(lease).snapshots("overlayfs");
        List<Mount> mounts = sn.view("large-check", res.chainId(), Map.of());
        Path dir = Files.createTempDirectory(daemon.root().getParent(), "view");
        try {
            mount(mounts, dir);
            try {
                long files;
                try (Stream<Path> s = Files.walk(dir)) {
                    files = s.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)).count();
                }
                assertThat(files).isEqualTo(large.files());
                assertThat(dir.resolve(GeneratedImages.WHITED_OUT)).doesNotExist();
                for (var h : large.sampleHashes().entrySet()) assertThat(sha256(dir.resolve(h.getKey()))).as(h.getKey()).isEqualTo(h.getValue());
            } finally {
                run("umount", dir.toString());
            }
        } finally {
            sn.remove("large-check");
            ns.leases().delete(lease, false);
            Files.deleteIfExists(dir);
        }

        // the real ctr runs it
        String big = "data/l3/big1";
        Ctr.Result r = Ctr.run(daemon.address(), "-n", "big", "run", "--rm", ref.toString(), "large-run", "/bin/sh", "-c",
                "find /data -type f | wc -l; sha256sum /" + big).assertOk();
        assertThat(r.stdout().lines().map(String::strip).toList())
                .containsExactly(String.valueOf(large.files() - 1), large.sampleHashes().get(big) + "  /" + big);
    }

    @Test
    void killedPullResumesWithRangeRequests() throws Exception {
        // a daemon of its own: none of the layers may be in its content store yet
        try (DaemonProcess own = DaemonProcess.start(); ContainerdClient c = ContainerdClient.connect(own.address())) {
            ContainerdClient ns = c.withNamespace("resume");
            List<String> cmd = List.of(DaemonProcess.JAVA, "--enable-native-access=ALL-UNNAMED", "-XX:TieredStopAtLevel=1",
                    "-cp", System.getProperty("java.class.path"), "io.jcontainerd.client.cli.Jctr", "--address", own.address(),
                    "-n", "resume", "images", "pull", "--plain-http", "--no-unpack", ref.toString());
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            try {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (ns.content().statuses().stream().noneMatch(s -> s.offset() > (2 << 20))) {
                    assertThat(p.isAlive()).as("jctr ended before any layer was half in").isTrue();
                    assertThat(System.nanoTime()).as("no download in progress").isLessThan(deadline);
                    Thread.sleep(10);
                }
            } finally {
                p.destroyForcibly().waitFor(); // SIGKILL: nothing gets cleaned up
            }
            Map<String, Long> partial = new LinkedHashMap<>();
            for (ContentClient.Status s : ns.content().statuses()) {
                if (s.offset() > 0) partial.put(s.ref().substring(s.ref().indexOf("sha256:")), s.offset()); // refs are "layer-<digest>"
            }
            assertThat(partial).as("ingests kept after the kill").isNotEmpty();
            assertThat(ns.images().list()).isEmpty();

            Map<String, Long> resumedAt = new ConcurrentHashMap<>();
            Progress rec = (d, state, offset) -> {
                if (state == Progress.State.DOWNLOADING) resumedAt.putIfAbsent(d.digest(), offset);
            };
            int mark = registry.responses().size();
            ImagesClient.Image img = ImagePuller.pull(ns, RegistryClient.of(ref, plain()),
                    ImagePuller.Options.defaults().withUnpack(false, null).withProgress(rec));
            List<String> requests = registry.responses().subList(mark, registry.responses().size());
            for (var e : partial.entrySet()) {
                assertThat(resumedAt.get(e.getKey())).as("resumed from the ingest's offset: " + partial + " " + resumedAt).isEqualTo(e.getValue());
                String digest = e.getKey();
                assertThat(requests).as("a Range request answered 206 for " + digest)
                        .anySatisfy(l -> assertThat(l).contains("/blobs/" + digest).contains("http.response.status=206"));
            }
            assertThat(ns.content().statuses()).isEmpty();
            assertThat(Images.check(ns.content(), img.target(), Platforms.defaultMatcher()).complete()).isTrue();
            for (String layer : large.layerDigests()) assertThat(ns.content().info(layer).size()).isPositive();
        }
    }

    static void mount(List<Mount> mounts, Path dir) throws Exception {
        assertThat(mounts).hasSize(1);
        Mount m = mounts.getFirst();
        if (m.type().equals("bind")) {
            run("mount", "-o", String.join(",", m.options()), m.source(), dir.toString());
        } else {
            run("mount", "-t", m.type(), "-o", String.join(",", m.options()), m.source(), dir.toString());
        }
    }

    static void run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(String.join(" ", cmd) + ": " + out).isZero();
    }

    static String sha256(Path p) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (InputStream in = Files.newInputStream(p)) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
        }
        return HexFormat.of().formatHex(md.digest());
    }
}
