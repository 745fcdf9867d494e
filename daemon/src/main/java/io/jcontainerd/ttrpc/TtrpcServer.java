package io.jcontainerd.ttrpc;

import io.jcontainerd.errdefs.Errdefs;
import java.io.IOException;
import java.net.ConnectException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A ttrpc server on a unix socket. Register services, then {@link #start(Path)}; every connection
 * gets a reader thread and every call its own virtual thread, so calls on one connection run
 * concurrently.
 */
public final class TtrpcServer implements AutoCloseable {
    private final Map<String, Map<String, Method>> services = new ConcurrentHashMap<>();
    private final Set<ServerConnection> connections = ConcurrentHashMap.newKeySet();
    private volatile ServerSocketChannel listener;
    private volatile Path socket;
    private volatile boolean closed;

    /** Adds a service; its name is what clients send, e.g. {@code containerd.task.v2.Task}. */
    public void register(String service, Map<String, Method> methods) {
        if (services.putIfAbsent(service, Map.copyOf(methods)) != null) {
            throw new IllegalStateException("duplicate service " + service + " registered");
        }
    }

    /**
     * Binds {@code path} and starts accepting. A stale socket file left by a dead server is removed;
     * a socket someone still answers on is ALREADY_EXISTS. File mode is left to the caller.
     */
    public synchronized void start(Path path) throws IOException {
        if (closed) throw Errdefs.failedPrecondition("ttrpc: server closed");
        if (listener != null) throw Errdefs.failedPrecondition("ttrpc: server already started on %s", socket);
        removeStaleSocket(path);
        Path parent = path.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        ServerSocketChannel ssc = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            ssc.bind(UnixDomainSocketAddress.of(path));
        } catch (IOException e) {
            ssc.close();
            throw e;
        }
        listener = ssc;
        socket = path;
        Thread.ofVirtual().name("ttrpc-accept").start(() -> acceptLoop(ssc));
    }

    /** The socket path being served, or null before {@link #start}. */
    public Path socket() {
        return socket;
    }

    private static void removeStaleSocket(Path path) throws IOException {
        if (!Files.exists(path, java.nio.file.LinkOption.NOFOLLOW_LINKS)) return;
        try (SocketChannel probe = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
            throw Errdefs.alreadyExists("ttrpc: socket %s is in use", path);
        } catch (ConnectException stale) {
            Files.deleteIfExists(path);
        }
    }

    private void acceptLoop(ServerSocketChannel ssc) {
        while (!closed) {
            SocketChannel sc;
            try {
                sc = ssc.accept();
            } catch (IOException e) {
                if (!closed) Log.warn("ttrpc: accept failed on " + socket + ", no longer serving", e);
                return;
            }
            ServerConnection conn = new ServerConnection(sc, services, connections::remove);
            connections.add(conn);
            if (closed) {
                conn.close();
                return;
            }
            Thread.ofVirtual().name("ttrpc-conn").start(conn);
        }
    }

    /** Stops accepting, drops every connection (their calls see cancellation) and removes the socket. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        ServerSocketChannel l = listener;
        if (l != null) {
            try {
                l.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
        for (ServerConnection c : connections) c.close();
        connections.clear();
        if (socket != null) {
            try {
                Files.deleteIfExists(socket);
            } catch (IOException e) {
                Log.warn("ttrpc: cannot remove socket " + socket, e);
            }
        }
    }

    /** Logging kept behind a holder so the logger is only looked up when something goes wrong. */
    static final class Log {
        private static final System.Logger LOGGER = System.getLogger("io.jcontainerd.ttrpc");

        static void warn(String msg, Throwable t) {
            LOGGER.log(System.Logger.Level.WARNING, msg, t);
        }

        static void debug(String msg) {
            LOGGER.log(System.Logger.Level.DEBUG, msg);
        }
    }
}
