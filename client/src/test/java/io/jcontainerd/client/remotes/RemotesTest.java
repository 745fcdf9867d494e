package io.jcontainerd.client.remotes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.jcontainerd.client.ClientException;
import io.jcontainerd.client.ContainerdClient;
import io.jcontainerd.client.images.ImagePuller;
import io.jcontainerd.client.images.Images;
import io.jcontainerd.client.platforms.Platforms;
import io.jcontainerd.client.reference.Reference;
import io.jcontainerd.testing.DaemonProcess;
import io.jcontainerd.testing.Registry;
import io.jcontainerd.testing.TestImages;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Registry endpoints from hosts.toml, and transfers through a misbehaving front of a real registry:
 * truncated blobs (resumed with Range), 503s (retried), corrupted bytes (rejected, nothing left).
 */
class RemotesTest {
    static DaemonProcess daemon;
    static Registry registry;
    static ContainerdClient client;

    @BeforeAll
    static void start() throws Exception {
        daemon = DaemonProcess.start();
        registry = Registry.start();
        TestImages.push(registry.host(), "library/busybox:latest");
        client = ContainerdClient.connect(daemon.address());
    }

    @AfterAll
    static void stop() {
        if (client != null) client.close();
        if (registry != null) registry.close();
        if (daemon != null) daemon.close();
    }

    static RegistryClient.Options opts(Path hostsDir, boolean plainHttp) {
        return new RegistryClient.Options(hostsDir, plainHttp, false, Credentials.anonymous(), 3, Duration.ofMillis(20), null);
    }

    @Test
    void hostsTomlParsing(@TempDir Path dir) throws Exception {
        Path d = Files.createDirectories(dir.resolve("reg.example.com_5000_"));
        Files.writeString(d.resolve("hosts.toml"), """
                # comment
                server = "https://reg.example.com:5000"
                [host."http://mirror.local:8080/base"]
                  capabilities = ["pull", "resolve"]
                  skip_verify = true
                  ca = ["ca.pem", '/abs/ca2.pem']
                  [host."http://mirror.local:8080/base".header]
                    x-token = "t"
                [host."https://other.local"]
                  capabilities = ["pull"]
                  override_path = true
                """);
        List<RegistryHost> hs = HostsConfig.hosts("reg.example.com:5000", dir, false, false);
        assertThat(hs).hasSize(3);
        assertThat(hs.get(0).base()).isEqualTo("http://mirror.local:8080/base/v2");
        assertThat(hs.get(0).capabilities()).containsExactlyInAnyOrder(RegistryHost.Capability.PULL, RegistryHost.Capability.RESOLVE);
        assertThat(hs.get(0).skipVerify()).isTrue();
        assertThat(hs.get(0).caFiles()).containsExactly(d.resolve("ca.pem"), Path.of("/abs/ca2.pem"));
        assertThat(hs.get(0).headers()).containsEntry("x-token", List.of("t"));
        assertThat(hs.get(1).base()).isEqualTo("https://other.local");
        assertThat(hs.get(2).base()).isEqualTo("https://reg.example.com:5000/v2");
        assertThat(hs.get(2).capabilities()).isEqualTo(RegistryHost.ALL);
        // no file: the host itself; docker.io's API host
        assertThat(HostsConfig.hosts("docker.io", dir, false, false).getFirst().base()).isEqualTo("https://registry-1.docker.io/v2");
        assertThat(HostsConfig.hosts("x.io:1", dir, true, false).getFirst().base()).isEqualTo("http://x.io:1/v2");
    }

    @Test
    void hostDirectoryWithoutHostsTomlTrustsItsCrtFilesAndLoopbackDefaultsToHttp(@TempDir Path dir) throws Exception {
        // Docker's certs.d convention: the first existing directory decides; its *.crt files are CAs
        Path d = Files.createDirectories(dir.resolve("reg.example.com_5000_"));
        Files.writeString(d.resolve("b.crt"), "");
        Files.writeString(d.resolve("a.crt"), "");
        Files.writeString(d.resolve("client.cert"), "");
        Files.createDirectories(dir.resolve("_default"));
        Files.writeString(dir.resolve("_default/hosts.toml"), "server = \"https://elsewhere.example\"\n");
        List<RegistryHost> hs = HostsConfig.hosts("reg.example.com:5000", dir, false, false);
        assertThat(hs).singleElement().satisfies(h -> {
            assertThat(h.base()).isEqualTo("https://reg.example.com:5000/v2");
            assertThat(h.caFiles()).containsExactly(d.resolve("a.crt"), d.resolve("b.crt"));
            assertThat(h.skipVerify()).isFalse();
        });
        // a host without a directory of its own falls to _default
        assertThat(HostsConfig.hosts("other.example", dir, false, false).getLast().base()).isEqualTo("https://elsewhere.example/v2");
        // loopback registries are plain HTTP unless a hosts.toml names the server (containerd's IsLocalhost rule)
        for (String local : List.of("localhost:5000", "127.0.0.1:5000", "127.1.2.3", "[::1]:5000")) {
            RegistryHost h = HostsConfig.hosts(local, null, false, false).getFirst();
            assertThat(h.scheme()).as(local).isEqualTo("http");
            assertThat(h.skipVerify()).as(local).isTrue();
        }
        assertThat(HostsConfig.hosts("128.0.0.1:5000", null, false, false).getFirst().scheme()).isEqualTo("https");
        assertThat(HostsConfig.hosts("localhost.example", null, false, false).getFirst().scheme()).isEqualTo("https");
    }

    @Test
    void hostsTomlMirrorFallsBackToPlainHttpServer(@TempDir Path dir) throws Exception {
        int dead;
        try (ServerSocket s = new ServerSocket(0)) {
            dead = s.getLocalPort();
        }
        Path d = Files.createDirectories(dir.resolve(registry.host().replace(":", "_") + "_"));
        Files.writeString(d.resolve("hosts.toml"), """
                server = "http://%s"
                [host."http://127.0.0.1:%d"]
                  capabilities = ["pull", "resolve"]
                """.formatted(registry.host(), dead));
        Reference ref = Reference.parse(registry.host() + "/library/busybox:latest");
        ContainerdClient ns = client.withNamespace("hosts");
        var img = ImagePuller.pull(ns, RegistryClient.of(ref, opts(dir, false)), ImagePuller.Options.defaults().withUnpack(false, null));
        assertThat(Images.check(ns.content(), img.target(), Platforms.defaultMatcher()).complete()).isTrue();
    }

    @Test
    void truncatedBlobsAreResumedWithRange() throws Exception {
        try (FaultyFront front = FaultyFront.start(registry.host(), FaultyFront.Mode.TRUNCATE_ONCE)) {
            fresh(ns -> {
                Reference ref = Reference.parse(front.host() + "/library/busybox:latest");
                var img = ImagePuller.pull(ns, RegistryClient.of(ref, opts(null, true)),
                        ImagePuller.Options.defaults().withStallTimeout(Duration.ofSeconds(2)));
                assertThat(front.rangeRequests.get()).isPositive();
                assertThat(Images.check(ns.content(), img.target(), Platforms.defaultMatcher()).complete()).isTrue();
            });
        }
    }

    @Test
    void serverErrorsAreRetried() throws Exception {
        try (FaultyFront front = FaultyFront.start(registry.host(), FaultyFront.Mode.UNAVAILABLE_ONCE)) {
            ContainerdClient ns = client.withNamespace("retried");
            Reference ref = Reference.parse(front.host() + "/library/busybox:latest");
            ImagePuller.pull(ns, RegistryClient.of(ref, opts(null, true)), ImagePuller.Options.defaults().withUnpack(false, null));
            assertThat(front.failures.get()).isPositive();
            assertThat(ns.images().list()).hasSize(1);
        }
    }

    @Test
    void corruptedBlobsAreRejectedAndNothingIsLeft() throws Exception {
        try (FaultyFront front = FaultyFront.start(registry.host(), FaultyFront.Mode.CORRUPT)) {
            fresh(ns -> {
                Reference ref = Reference.parse(front.host() + "/library/busybox:latest");
                assertThatThrownBy(() -> ImagePuller.pull(ns, RegistryClient.of(ref, opts(null, true)), ImagePuller.Options.defaults()))
                        .isInstanceOfSatisfying(ClientException.class, e -> {
                            assertThat(e.isFailedPrecondition()).isTrue();
                            assertThat(e.getMessage()).contains("digest mismatch");
                        });
                assertThat(ns.images().list()).isEmpty();
                assertThat(ns.leases().list()).isEmpty();
                assertThat(ns.content().statuses()).isEmpty();
            });
        }
    }

    interface NsWork {
        void run(ContainerdClient ns) throws Exception;
    }

    /** A daemon of its own: blobs another test pulled would otherwise be linked, not downloaded. */
    static void fresh(NsWork work) throws Exception {
        try (DaemonProcess own = DaemonProcess.start(); ContainerdClient c = ContainerdClient.connect(own.address())) {
            work.run(c.withNamespace("fresh"));
        }
    }

    /** An HTTP front of the real registry that misbehaves on blob GETs; HEAD is refused (clients fall back to GET). */
    static final class FaultyFront implements AutoCloseable {
        enum Mode { TRUNCATE_ONCE, UNAVAILABLE_ONCE, CORRUPT }

        final HttpServer server;
        final AtomicInteger rangeRequests = new AtomicInteger();
        final AtomicInteger failures = new AtomicInteger();
        private final Set<String> seen = ConcurrentHashMap.newKeySet();
        private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

        private FaultyFront(HttpServer server) {
            this.server = server;
        }

        static FaultyFront start(String upstream, Mode mode) throws IOException {
            HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            FaultyFront f = new FaultyFront(s);
            // an exception out of the handler makes the server drop the connection
            s.createContext("/", ex -> {
                try {
                    f.handle(ex, upstream, mode);
                } catch (InterruptedException e) {
                    throw new IOException(e);
                }
            });
            s.setExecutor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());
            s.start();
            return f;
        }

        String host() {
            return "127.0.0.1:" + server.getAddress().getPort();
        }

        private void handle(HttpExchange ex, String upstream, Mode mode) throws IOException, InterruptedException {
            String path = ex.getRequestURI().toString();
            if (ex.getRequestMethod().equals("HEAD")) {
                ex.sendResponseHeaders(405, -1);
                ex.close();
                return;
            }
            boolean blob = path.contains("/blobs/");
            if (mode == Mode.UNAVAILABLE_ONCE && seen.add(path)) {
                failures.incrementAndGet();
                ex.sendResponseHeaders(503, -1);
                ex.close();
                return;
            }
            String range = ex.getRequestHeaders().getFirst("Range");
            if (range != null) rangeRequests.incrementAndGet();
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://" + upstream + path)).GET();
            for (String h : List.of("Accept", "Range")) {
                String v = ex.getRequestHeaders().getFirst(h);
                if (v != null) b.header(h, v);
            }
            HttpResponse<byte[]> r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
            for (String h : List.of("Content-Type", "Docker-Content-Digest", "Content-Range")) {
                r.headers().firstValue(h).ifPresent(v -> ex.getResponseHeaders().add(h, v));
            }
            byte[] body = r.body();
            if (blob && mode == Mode.CORRUPT && body.length > 0) {
                body = body.clone();
                body[body.length / 2] ^= 0x55;
            }
            ex.sendResponseHeaders(r.statusCode(), body.length == 0 ? -1 : body.length);
            try (OutputStream os = ex.getResponseBody()) {
                if (blob && mode == Mode.TRUNCATE_ONCE && range == null && body.length > 1000 && seen.add(path)) {
                    os.write(body, 0, body.length / 2);
                    os.flush();
                    // the connection drops midway
                    throw new IOException("cut");
                }
                os.write(body);
            }
        }

        @Override
        public void close() {
            server.stop(0);
        }
    }

}
