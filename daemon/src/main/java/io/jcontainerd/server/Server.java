package io.jcontainerd.server;

import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.jcontainerd.plugin.TtrpcService;
import io.jcontainerd.ttrpc.TtrpcServer;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.jcontainerd.config.Config;
import io.jcontainerd.events.Exchange;
import io.jcontainerd.namespaces.NamespaceInterceptor;
import io.jcontainerd.namespaces.Namespaces;
import io.jcontainerd.plugin.GrpcService;
import io.jcontainerd.plugin.Plugin;
import io.jcontainerd.plugin.PluginLoader;
import io.jcontainerd.plugin.PluginSet;
import io.jcontainerd.plugin.PluginType;
import io.jcontainerd.plugin.Registration;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The daemon's wiring: validates the config's directories, initializes every plugin, then builds the
 * gRPC server from the services plugins expose. It knows no concrete plugin; listeners are started by
 * the caller in boot order and stopped by {@link #close()}.
 */
public final class Server implements AutoCloseable {
    private static final Logger LOG = System.getLogger(Server.class.getName());

    private final Config config;
    private final PluginSet plugins;
    private final EventLoopGroup loop;
    private final ExecutorService handlers = Executors.newVirtualThreadPerTaskExecutor();
    private final List<io.grpc.Server> grpcServers = new ArrayList<>();
    private final List<AutoCloseable> listeners = new ArrayList<>();
    private final List<Path> sockets = new ArrayList<>();
    private final List<GrpcService> services;
    private final List<ServerInterceptor> interceptors = new ArrayList<>();
    // shared by the unix and tcp listeners; built when the first one starts, after every interceptor was added
    private LazyServices registry;

    // held so that JUL cannot collect the logger and forget its level
    private static final java.util.logging.Logger NETTY_BOOTSTRAP_LOG =
            java.util.logging.Logger.getLogger("io.grpc.netty.shaded.io.netty.bootstrap");

    static {
        // Netty would otherwise probe for SLF4J and Log4j before settling on JUL
        io.grpc.netty.shaded.io.netty.util.internal.logging.InternalLoggerFactory.setDefaultFactory(
                io.grpc.netty.shaded.io.netty.util.internal.logging.JdkLoggerFactory.INSTANCE);
        // grpc sets SO_KEEPALIVE on every accepted channel; unix sockets do not have it, and Netty warns
        // about that on each connection. Nothing is lost by not saying so.
        NETTY_BOOTSTRAP_LOG.setLevel(java.util.logging.Level.SEVERE);
    }


    private Server(Config config, PluginSet plugins, List<GrpcService> services) {
        this.config = config;
        this.plugins = plugins;
        this.services = services;
        this.loop = new EpollEventLoopGroup(1);
    }

    /** containerd's server.New: directories, plugins, services. Nothing listens yet. */
    public static Server create(Config config, List<Registration> registrations, Clock clock,
                                PluginLoader.Listener onPlugin) throws IOException {
        if (config.root().isEmpty()) throw new IllegalArgumentException("root must be specified");
        if (config.state().isEmpty()) throw new IllegalArgumentException("state must be specified");
        if (Path.of(config.root()).toAbsolutePath().normalize().equals(Path.of(config.state()).toAbsolutePath().normalize())) {
            throw new IllegalArgumentException("root and state must be different paths");
        }
        makeDir(Path.of(config.root()));
        makeDir(Path.of(config.state()));

        Exchange exchange = new Exchange(clock, Namespaces::validateIdentifier);
        List<Registration> all = new ArrayList<>();
        // the exchange is built in, as in containerd: plugins publish through it from their init on
        all.add(Registration.of(PluginType.EVENT, "exchange", List.of(), ic -> exchange));
        all.addAll(registrations);
        PluginSet plugins = PluginLoader.load(all, config, exchange, clock, onPlugin);

        List<GrpcService> services = new ArrayList<>();
        for (Plugin p : plugins.all()) {
            if (p.ok() && p.instance() instanceof GrpcService s) services.add(s);
        }
        return new Server(config, plugins, services);
    }

    private static void makeDir(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx--x--x"));
    }

    public PluginSet plugins() {
        return plugins;
    }

    private io.grpc.Server build(NettyServerBuilder b) {
        b.bossEventLoopGroup(loop).workerEventLoopGroup(loop)
                .executor(handlers)
                .maxInboundMessageSize(config.grpc().maxRecvMessageSize());
        if (registry == null) registry = new LazyServices(services, this::intercept);
        return b.fallbackHandlerRegistry(registry).build();
    }

    private ServerServiceDefinition intercept(ServerServiceDefinition def) {
        // interceptors run last-added first: extras (metrics) see the status ErrorMapping produced
        List<ServerInterceptor> chain = new ArrayList<>(List.of(
                new NamespaceInterceptor(), new io.jcontainerd.leases.LeaseInterceptor(), new MessageLimits(config.grpc().maxSendMessageSize()), new ErrorMapping()));
        chain.addAll(interceptors);
        return ServerInterceptors.intercept(def, chain);
    }

    /** The gRPC services the plugins expose, as bound definitions (binds every one of them). */
    public List<ServerServiceDefinition> serviceDefinitions() {
        return services.stream().map(GrpcService::bindService).toList();
    }

    /** Adds an interceptor to every service (call before serving). */
    public void addInterceptor(ServerInterceptor interceptor) {
        interceptors.add(interceptor);
    }

    /** Serves the ttrpc services plugins expose (shim events) on the ttrpc socket. */
    public void serveTtrpc() throws IOException {
        Path sock = UnixSockets.path(config.ttrpcAddress());
        TtrpcServer ttrpc = new TtrpcServer();
        for (Plugin p : plugins.all()) {
            if (p.ok() && p.instance() instanceof TtrpcService s) ttrpc.register(s.ttrpcServiceName(), s.ttrpcMethods());
        }
        UnixSockets.prepare(sock);
        ttrpc.start(sock);
        listeners.add(ttrpc);
        sockets.add(sock);
        UnixSockets.restrict(sock, config.ttrpc().uid(), config.ttrpc().gid());
    }

    /** Serves gRPC on the unix socket (and the TCP address when one is configured). */
    public void serveGrpc() throws IOException {
        Path sock = UnixSockets.path(config.grpc().address());
        UnixSockets.prepare(sock);
        io.grpc.Server unix = build(NettyServerBuilder.forAddress(new DomainSocketAddress(sock.toString()))
                .channelType(EpollServerDomainSocketChannel.class));
        unix.start();
        sockets.add(sock);
        grpcServers.add(unix);
        UnixSockets.restrict(sock, config.grpc().uid(), config.grpc().gid());
        if (!config.grpc().tcpAddress().isEmpty()) {
            io.grpc.Server tcp = build(NettyServerBuilder.forAddress(hostPort(config.grpc().tcpAddress()))
                    .channelType(EpollServerSocketChannel.class));
            tcp.start();
            grpcServers.add(tcp);
        }
    }

    /** Adds a listener (debug, metrics, ttrpc) to be stopped with the server. */
    public void addListener(AutoCloseable listener) {
        listeners.add(listener);
    }

    public Config config() {
        return config;
    }

    static InetSocketAddress hostPort(String address) {
        int colon = address.lastIndexOf(':');
        if (colon < 0) throw new IllegalArgumentException("address \"" + address + "\" must be host:port");
        String host = address.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
        int port = Integer.parseInt(address.substring(colon + 1));
        return host.isEmpty() ? new InetSocketAddress(port) : new InetSocketAddress(host, port);
    }

    /** Stops listeners, then closes plugins in reverse init order, then removes the sockets. */
    @Override
    public void close() {
        for (io.grpc.Server s : grpcServers) s.shutdown();
        for (AutoCloseable l : listeners.reversed()) {
            try {
                l.close();
            } catch (Exception e) {
                LOG.log(Level.WARNING, "closing listener: " + e.getMessage(), e);
            }
        }
        for (io.grpc.Server s : grpcServers) {
            try {
                // open streams (event subscriptions) would hold a graceful shutdown forever
                if (!s.awaitTermination(500, TimeUnit.MILLISECONDS)) s.shutdownNow().awaitTermination(500, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        PluginLoader.closeAll(plugins);
        for (Path p : sockets) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException e) {
                LOG.log(Level.WARNING, "removing socket " + p + ": " + e.getMessage());
            }
        }
        loop.shutdownGracefully(0, 200, TimeUnit.MILLISECONDS);
        handlers.shutdownNow();
    }
}
