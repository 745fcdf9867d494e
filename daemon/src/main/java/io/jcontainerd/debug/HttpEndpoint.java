package io.jcontainerd.debug;

import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A minimal HTTP/1.1 server for the debug and metrics listeners. It binds a unix socket (an absolute
 * path) or a TCP {@code host:port}, serves GET and HEAD on exact paths, and closes each connection after
 * one response. One virtual thread per connection; a watchdog closes connections whose client is too
 * slow, since blocking channel reads have no timeout of their own.
 */
public final class HttpEndpoint implements AutoCloseable {

    /** Builds the response for a request on the path the handler is routed at. */
    @FunctionalInterface
    public interface Handler {
        Response handle(Request request) throws Exception;
    }

    /** A parsed request head; {@code path} is decoded, {@code query} raw (null when absent), header names lower case. */
    public record Request(String method, String path, String query, Map<String, String> headers) {}

    public record Response(int status, String contentType, byte[] body) {
        public static final String TEXT = "text/plain; charset=utf-8";

        public static Response text(String body) {
            return text(200, body);
        }

        public static Response text(int status, String body) {
            return new Response(status, TEXT, body.getBytes(StandardCharsets.UTF_8));
        }

        public static Response of(String contentType, String body) {
            return new Response(200, contentType, body.getBytes(StandardCharsets.UTF_8));
        }
    }

    public static final Duration DEFAULT_READ_TIMEOUT = Duration.ofSeconds(10);
    static final Duration WRITE_TIMEOUT = Duration.ofSeconds(60);
    static final Duration LINGER = Duration.ofSeconds(1);
    static final int MAX_HEAD = 16 * 1024;
    static final int MAX_CONNECTIONS = 128;

    private static final System.Logger LOG = System.getLogger(HttpEndpoint.class.getName());

    private final String address;
    private final ServerSocketChannel server;
    private final Path socketPath;
    private final Map<String, Handler> routes;
    private final Duration readTimeout;
    private final int port;
    private final Set<SocketChannel> connections = ConcurrentHashMap.newKeySet();
    private Thread acceptor;
    private volatile boolean closed;

    private HttpEndpoint(String address, ServerSocketChannel server, Path socketPath, Map<String, Handler> routes,
                         Duration readTimeout) throws IOException {
        this.address = address;
        this.port = server.getLocalAddress() instanceof InetSocketAddress isa ? isa.getPort() : -1;
        this.server = server;
        this.socketPath = socketPath;
        this.routes = Map.copyOf(routes);
        this.readTimeout = readTimeout;
    }

    public static HttpEndpoint listen(String address, int uid, int gid, Map<String, Handler> routes) throws IOException {
        return listen(address, uid, gid, routes, DEFAULT_READ_TIMEOUT);
    }

    /**
     * Binds {@code address} and starts serving. An absolute path is a unix socket: a stale file there is
     * removed first, and the socket gets mode 0660 and owner {@code uid:gid} (a negative id is left as
     * created). Anything else is a TCP {@code host:port} ({@code :port} binds all interfaces; uid/gid
     * are ignored). Port 0 picks a free port, see {@link #port()}.
     */
    public static HttpEndpoint listen(String address, int uid, int gid, Map<String, Handler> routes,
                                      Duration readTimeout) throws IOException {
        HttpEndpoint endpoint;
        if (address.startsWith("/")) {
            Path path = Path.of(address);
            endpoint = new HttpEndpoint(address, bindUnix(path, uid, gid), path, routes, readTimeout);
        } else {
            endpoint = new HttpEndpoint(address, bindTcp(address), null, routes, readTimeout);
        }
        endpoint.acceptor = Thread.ofVirtual().name("http-accept " + address).start(endpoint::acceptLoop);
        return endpoint;
    }

    private static ServerSocketChannel bindUnix(Path path, int uid, int gid) throws IOException {
        Path parent = path.getParent();
        if (parent != null && !Files.isDirectory(parent)) {
            // traversable but not listable, so the socket's group can still reach it
            Files.createDirectories(parent, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx--x--x")));
        }
        if (Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException("cannot listen on " + path + ": it is a directory");
        }
        // a socket file left by an earlier run makes bind fail with "address in use"
        Files.deleteIfExists(path);
        ServerSocketChannel ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            ch.bind(UnixDomainSocketAddress.of(path));
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-rw----"));
            // only chown when needed, so an unprivileged daemon can listen with its own ids
            if (uid >= 0 && (int) Files.getAttribute(path, "unix:uid", LinkOption.NOFOLLOW_LINKS) != uid) {
                Files.setAttribute(path, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
            }
            if (gid >= 0 && (int) Files.getAttribute(path, "unix:gid", LinkOption.NOFOLLOW_LINKS) != gid) {
                Files.setAttribute(path, "unix:gid", gid, LinkOption.NOFOLLOW_LINKS);
            }
            return ch;
        } catch (IOException | RuntimeException e) {
            ch.close();
            Files.deleteIfExists(path);
            throw e;
        }
    }

    private static ServerSocketChannel bindTcp(String address) throws IOException {
        int colon = address.lastIndexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("address must be host:port or an absolute socket path: " + address);
        }
        String host = address.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(address.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("invalid port in address " + address);
        }
        InetSocketAddress sa = host.isEmpty() ? new InetSocketAddress(port) : new InetSocketAddress(host, port);
        if (sa.isUnresolved()) {
            throw new IOException("cannot resolve host in address " + address);
        }
        ServerSocketChannel ch = ServerSocketChannel.open();
        try {
            ch.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            ch.bind(sa, 64);
            return ch;
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /** The bound TCP port (useful after binding port 0), or -1 for a unix socket. */
    public int port() {
        return port;
    }

    /** The address as configured. */
    public String address() {
        return address;
    }

    /** Stops accepting, drops open connections, and removes the unix socket file. */
    @Override
    public synchronized void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        server.close();
        // the socket is only released once the thread blocked in accept() has left it
        try {
            acceptor.join(Duration.ofSeconds(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (SocketChannel c : connections) {
            closeQuietly(c);
        }
        if (socketPath != null) {
            Files.deleteIfExists(socketPath);
        }
    }

    private void acceptLoop() {
        while (!closed) {
            SocketChannel c;
            try {
                c = server.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (closed) {
                    return;
                }
                // e.g. out of file descriptors: back off instead of spinning
                LOG.log(System.Logger.Level.WARNING, "accept on " + address + " failed", e);
                try {
                    Thread.sleep(100);
                } catch (InterruptedException ie) {
                    return;
                }
                continue;
            }
            if (connections.size() >= MAX_CONNECTIONS || closed) {
                closeQuietly(c);
                continue;
            }
            connections.add(c);
            Thread.ofVirtual().name("http-conn " + address).start(() -> serve(c));
        }
    }

    private void serve(SocketChannel c) {
        try (c) {
            Response response;
            boolean head = false;
            try {
                Request request;
                try (Watchdog _ = new Watchdog(readTimeout, c)) {
                    request = readRequest(c);
                }
                if (request == null) {
                    return; // connected and left without a request
                }
                head = request.method().equals("HEAD");
                response = dispatch(request);
            } catch (BadRequest e) {
                response = Response.text(400, "400 Bad Request: " + e.getMessage() + "\n");
            }
            try (Watchdog _ = new Watchdog(WRITE_TIMEOUT, c)) {
                write(c, response, head);
            }
            // half-close and drain what the client still sends (bounded by LINGER and 1 MiB), so unread input
            // such as the body of a refused POST does not turn our close into a reset
            try (Watchdog _ = new Watchdog(LINGER, c)) {
                c.shutdownOutput();
                ByteBuffer sink = ByteBuffer.allocate(4096);
                for (int total = 0; total < 1024 * 1024 && c.read(sink) >= 0; sink.clear()) {
                    total += sink.position();
                }
            }
        } catch (IOException e) {
            // the client went away, or the watchdog closed a slow one: nothing left to answer
        } finally {
            connections.remove(c);
        }
    }

    Response dispatch(Request request) {
        Handler handler = routes.get(request.path());
        if (handler == null) {
            return Response.text(404, "404 page not found\n");
        }
        if (!request.method().equals("GET") && !request.method().equals("HEAD")) {
            return Response.text(405, "405 method not allowed\n");
        }
        try {
            return handler.handle(request);
        } catch (Exception | LinkageError e) {
            LOG.log(System.Logger.Level.WARNING, "handler for " + request.path() + " failed", e);
            return Response.text(500, "500 internal server error: " + e + "\n");
        }
    }

    private static final class BadRequest extends Exception {
        BadRequest(String message) {
            super(message, null, false, false);
        }
    }

    /** Reads and parses the request head; null if the peer closed before sending anything. */
    private static Request readRequest(SocketChannel c) throws IOException, BadRequest {
        ByteBuffer buf = ByteBuffer.allocate(MAX_HEAD);
        int end;
        int scanned = 0;
        while ((end = headEnd(buf.array(), scanned, buf.position())) < 0) {
            scanned = Math.max(0, buf.position() - 3);
            if (!buf.hasRemaining()) {
                throw new BadRequest("request head too large");
            }
            if (c.read(buf) < 0) {
                if (buf.position() == 0) {
                    return null;
                }
                throw new BadRequest("incomplete request head");
            }
        }
        return parse(new String(buf.array(), 0, end, StandardCharsets.ISO_8859_1));
    }

    /** The index just past the blank line ending the head (CRLF or bare LF), or -1. */
    private static int headEnd(byte[] b, int from, int to) {
        for (int i = from; i < to; i++) {
            if (b[i] != '\n') {
                continue;
            }
            if (i + 1 < to && b[i + 1] == '\n') {
                return i + 2;
            }
            if (i + 2 < to && b[i + 1] == '\r' && b[i + 2] == '\n') {
                return i + 3;
            }
        }
        return -1;
    }

    static Request parse(String head) throws BadRequest {
        String[] lines = head.split("\r?\n");
        String[] start = lines[0].split(" ", -1);
        if (start.length != 3) {
            throw new BadRequest("malformed request line");
        }
        String method = start[0];
        if (method.isEmpty() || !method.chars().allMatch(ch -> ch > ' ' && ch < 127 && "()<>@,;:\\\"/[]?={}".indexOf(ch) < 0)) {
            throw new BadRequest("malformed method");
        }
        if (!start[2].equals("HTTP/1.1") && !start[2].equals("HTTP/1.0")) {
            throw new BadRequest("unsupported protocol version");
        }
        String target = start[1];
        URI uri;
        try {
            if (target.startsWith("/")) {
                uri = new URI("http://localhost" + target);
            } else if (target.regionMatches(true, 0, "http://", 0, 7) || target.regionMatches(true, 0, "https://", 0, 8)) {
                uri = new URI(target);
            } else {
                throw new BadRequest("malformed request target");
            }
        } catch (java.net.URISyntaxException e) {
            throw new BadRequest("malformed request target");
        }
        String path = uri.getPath() == null || uri.getPath().isEmpty() ? "/" : uri.getPath();
        Map<String, String> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            String line = lines[i];
            if (line.isEmpty()) {
                continue;
            }
            int colon = line.indexOf(':');
            if (colon <= 0 || line.substring(0, colon).chars().anyMatch(ch -> ch <= ' ' || ch >= 127)) {
                throw new BadRequest("malformed header line");
            }
            headers.merge(line.substring(0, colon).toLowerCase(Locale.ROOT), line.substring(colon + 1).strip(),
                    (a, b) -> a + ", " + b);
        }
        return new Request(method, path, uri.getRawQuery(), headers);
    }

    private static void write(SocketChannel c, Response r, boolean head) throws IOException {
        StringBuilder sb = new StringBuilder(160)
                .append("HTTP/1.1 ").append(r.status()).append(' ').append(reason(r.status())).append("\r\n")
                .append("Content-Type: ").append(r.contentType()).append("\r\n")
                .append("Content-Length: ").append(r.body().length).append("\r\n")
                .append("X-Content-Type-Options: nosniff\r\n");
        if (r.status() == 405) {
            sb.append("Allow: GET, HEAD\r\n");
        }
        sb.append("Connection: close\r\n\r\n");
        ByteBuffer[] out = {
                ByteBuffer.wrap(sb.toString().getBytes(StandardCharsets.ISO_8859_1)),
                ByteBuffer.wrap(head ? new byte[0] : r.body())};
        while (out[0].hasRemaining() || out[1].hasRemaining()) {
            c.write(out);
        }
    }

    private static String reason(int status) {
        return switch (status) {
            case 200 -> "OK";
            case 204 -> "No Content";
            case 400 -> "Bad Request";
            case 403 -> "Forbidden";
            case 404 -> "Not Found";
            case 405 -> "Method Not Allowed";
            case 500 -> "Internal Server Error";
            case 503 -> "Service Unavailable";
            default -> "Status " + status;
        };
    }

    private static void closeQuietly(Closeable c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // already broken; nothing more to release
        }
    }

    /** Closes {@code target} unless closed itself first; a virtual thread sleeping is all it costs. */
    private static final class Watchdog implements AutoCloseable {
        private final Thread thread;

        Watchdog(Duration timeout, Closeable target) {
            thread = Thread.ofVirtual().start(() -> {
                try {
                    Thread.sleep(timeout);
                    closeQuietly(target);
                } catch (InterruptedException e) {
                    // finished in time
                }
            });
        }

        @Override
        public void close() {
            thread.interrupt();
        }
    }
}
