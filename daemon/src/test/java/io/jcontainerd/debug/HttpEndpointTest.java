package io.jcontainerd.debug;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HttpEndpointTest {

    private static final Map<String, HttpEndpoint.Handler> ROUTES = Map.of(
            "/hello", _ -> HttpEndpoint.Response.text("hello"),
            "/echo", r -> HttpEndpoint.Response.text(r.path() + "?" + r.query() + " ua=" + r.headers().get("user-agent")),
            "/boom", _ -> {
                throw new IllegalStateException("kaput");
            });

    @TempDir
    Path dir;

    private HttpEndpoint endpoint;

    @AfterEach
    void close() throws IOException {
        if (endpoint != null) {
            endpoint.close();
        }
    }

    /** Sends raw bytes and reads the whole answer (the server closes after one response). */
    static String raw(SocketAddress address, String request) throws IOException {
        try (SocketChannel ch = SocketChannel.open(address instanceof UnixDomainSocketAddress
                ? StandardProtocolFamily.UNIX : StandardProtocolFamily.INET)) {
            ch.connect(address);
            ch.write(ByteBuffer.wrap(request.getBytes(StandardCharsets.ISO_8859_1)));
            return readAll(ch);
        }
    }

    static String readAll(SocketChannel ch) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(1 << 20);
        while (ch.read(buf) >= 0) {
            if (!buf.hasRemaining()) {
                throw new IOException("response too large");
            }
        }
        return new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8);
    }

    private InetSocketAddress tcp() {
        return new InetSocketAddress("127.0.0.1", endpoint.port());
    }

    @Test
    void unixSocketReplacesStaleFileSetsModeAndServes() throws Exception {
        Path sock = dir.resolve("run/debug.sock");
        Files.createDirectories(sock.getParent());
        Files.writeString(sock, "stale");
        int uid = (int) Files.getAttribute(dir, "unix:uid");
        int gid = (int) Files.getAttribute(dir, "unix:gid");

        endpoint = HttpEndpoint.listen(sock.toString(), uid, gid, ROUTES);

        assertThat(endpoint.port()).isEqualTo(-1);
        assertThat(Files.isRegularFile(sock, LinkOption.NOFOLLOW_LINKS)).isFalse();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(sock))).isEqualTo("rw-rw----");
        assertThat(Files.getAttribute(sock, "unix:uid")).isEqualTo(uid);

        UnixDomainSocketAddress address = UnixDomainSocketAddress.of(sock);
        String get = raw(address, "GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n");
        assertThat(get).startsWith("HTTP/1.1 200 OK\r\n")
                .contains("Content-Type: text/plain; charset=utf-8\r\n", "Content-Length: 5\r\n", "Connection: close\r\n")
                .endsWith("\r\n\r\nhello");

        String head = raw(address, "HEAD /hello HTTP/1.1\r\nHost: localhost\r\n\r\n");
        assertThat(head).startsWith("HTTP/1.1 200 OK\r\n").contains("Content-Length: 5\r\n").endsWith("\r\n\r\n");

        // bare LF line ends and HTTP/1.0 are accepted too
        assertThat(raw(address, "GET /hello HTTP/1.0\n\n")).startsWith("HTTP/1.1 200 OK").endsWith("hello");

        endpoint.close();
        assertThat(sock).doesNotExist();
    }

    @Test
    void unixSocketIsChownedToGivenIds() throws Exception {
        assumeTrue(ProcessHandle.current().info().user().orElse("").equals("root"), "needs root to chown");
        Path sock = dir.resolve("owned.sock");
        endpoint = HttpEndpoint.listen(sock.toString(), 1234, 5678, ROUTES);
        assertThat(Files.getAttribute(sock, "unix:uid")).isEqualTo(1234);
        assertThat(Files.getAttribute(sock, "unix:gid")).isEqualTo(5678);
    }

    @Test
    void tcpRoutesAndStatuses() throws Exception {
        endpoint = HttpEndpoint.listen("127.0.0.1:0", 0, 0, ROUTES);
        assertThat(endpoint.port()).isPositive();
        String base = "http://127.0.0.1:" + endpoint.port();
        try (HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
            HttpResponse<String> ok = client.send(HttpRequest.newBuilder(URI.create(base + "/hello")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(ok.statusCode()).isEqualTo(200);
            assertThat(ok.body()).isEqualTo("hello");
            assertThat(ok.headers().firstValue("content-type")).hasValue("text/plain; charset=utf-8");

            HttpResponse<String> echo = client.send(HttpRequest.newBuilder(URI.create(base + "/echo?a=1&b=%20"))
                    .header("User-Agent", "test").build(), HttpResponse.BodyHandlers.ofString());
            assertThat(echo.body()).isEqualTo("/echo?a=1&b=%20 ua=test");

            HttpResponse<String> missing = client.send(HttpRequest.newBuilder(URI.create(base + "/nope")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(missing.statusCode()).isEqualTo(404);

            HttpResponse<String> post = client.send(HttpRequest.newBuilder(URI.create(base + "/hello"))
                    .POST(HttpRequest.BodyPublishers.ofString("x".repeat(100_000))).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(post.statusCode()).isEqualTo(405);
            assertThat(post.headers().firstValue("allow")).hasValue("GET, HEAD");

            HttpResponse<String> boom = client.send(HttpRequest.newBuilder(URI.create(base + "/boom")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(boom.statusCode()).isEqualTo(500);
            assertThat(boom.body()).contains("kaput");
        }
    }

    @Test
    void badRequestsGet400() throws Exception {
        endpoint = HttpEndpoint.listen("127.0.0.1:0", 0, 0, ROUTES);
        assertThat(raw(tcp(), "garbage\r\n\r\n")).startsWith("HTTP/1.1 400 Bad Request\r\n");
        assertThat(raw(tcp(), "GET /hello HTTP/2.0\r\n\r\n")).startsWith("HTTP/1.1 400 ");
        assertThat(raw(tcp(), "GET hello HTTP/1.1\r\n\r\n")).startsWith("HTTP/1.1 400 ");
        assertThat(raw(tcp(), "GET /he llo HTTP/1.1\r\n\r\n")).startsWith("HTTP/1.1 400 ");
        assertThat(raw(tcp(), "GET /hello HTTP/1.1\r\nno colon here\r\n\r\n")).startsWith("HTTP/1.1 400 ");
        assertThat(raw(tcp(), "GET /hello HTTP/1.1\r\nX: " + "a".repeat(20_000) + "\r\n\r\n")).startsWith("HTTP/1.1 400 ");
        // a client that half-closes mid-head
        try (SocketChannel ch = SocketChannel.open(tcp())) {
            ch.write(ByteBuffer.wrap("GET /hel".getBytes(StandardCharsets.US_ASCII)));
            ch.shutdownOutput();
            assertThat(readAll(ch)).startsWith("HTTP/1.1 400 ");
        }
        // the server is still fine
        assertThat(raw(tcp(), "GET /hello HTTP/1.1\r\n\r\n")).startsWith("HTTP/1.1 200 OK");
    }

    @Test
    void slowClientIsDisconnected() throws Exception {
        endpoint = HttpEndpoint.listen("127.0.0.1:0", 0, 0, ROUTES, Duration.ofMillis(200));
        try (SocketChannel ch = SocketChannel.open(tcp())) {
            ch.write(ByteBuffer.wrap("GET /hello HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII)));
            long start = System.nanoTime();
            assertThat(readAll(ch)).isEmpty(); // closed without an answer
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
        }
        assertThat(raw(tcp(), "GET /hello HTTP/1.1\r\n\r\n")).startsWith("HTTP/1.1 200 OK");
    }

    @Test
    void closeStopsAccepting() throws Exception {
        endpoint = HttpEndpoint.listen("127.0.0.1:0", 0, 0, ROUTES);
        InetSocketAddress address = tcp();
        endpoint.close();
        assertThatThrownBy(() -> raw(address, "GET /hello HTTP/1.1\r\n\r\n")).isInstanceOf(IOException.class);
    }

    @Test
    void rejectsAddressWithoutPort() {
        assertThatThrownBy(() -> HttpEndpoint.listen("localhost", 0, 0, ROUTES))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> HttpEndpoint.listen("127.0.0.1:http", 0, 0, ROUTES))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
