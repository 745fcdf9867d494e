package io.jcontainerd.client;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.ForwardingClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A connection to containerd (or jcontainerd) and the typed service clients over it. A client is
 * bound to one namespace and optionally one lease, both sent as gRPC metadata on every call;
 * {@link #withNamespace} and {@link #withLease(String)} return views sharing the connection, which only
 * the client returned by {@code connect} closes.
 */
public final class ContainerdClient implements AutoCloseable {
    public static final String DEFAULT_ADDRESS = "/run/jcontainerd/jcontainerd.sock";
    public static final String DEFAULT_NAMESPACE = "default";
    public static final String NAMESPACE_HEADER = "containerd-namespace";
    public static final String LEASE_HEADER = "containerd-lease";
    /** Label carrying a lease's expiry (RFC 3339), honoured by the garbage collector. */
    public static final String LEASE_EXPIRE_LABEL = "containerd.io/gc.expire";

    private static final Metadata.Key<String> NS_KEY = Metadata.Key.of(NAMESPACE_HEADER, Metadata.ASCII_STRING_MARSHALLER);
    private static final Metadata.Key<String> LEASE_KEY = Metadata.Key.of(LEASE_HEADER, Metadata.ASCII_STRING_MARSHALLER);
    private static final int MAX_MESSAGE = 16 << 20;

    private final Connection conn;
    private final String namespace;
    private final String lease;
    private final Channel channel;
    private final boolean owner;

    private record Connection(ManagedChannel channel, EventLoopGroup loop, String address) {}

    private ContainerdClient(Connection conn, String namespace, String lease, boolean owner) {
        this.conn = conn;
        this.namespace = namespace;
        this.lease = lease;
        this.owner = owner;
        this.channel = ClientInterceptors.intercept(conn.channel, new HeaderInterceptor(namespace, lease));
    }

    /** Connects to a unix socket path ({@code unix://} optional) or {@code tcp://host:port}, namespace "default". */
    public static ContainerdClient connect(String address) {
        return connect(address, DEFAULT_NAMESPACE);
    }

    public static ContainerdClient connect(String address, String namespace) {
        if (address == null || address.isEmpty()) address = DEFAULT_ADDRESS;
        NettyChannelBuilder b;
        EventLoopGroup loop = null;
        if (address.startsWith("tcp://")) {
            String hp = address.substring("tcp://".length());
            int colon = hp.lastIndexOf(':');
            if (colon < 0) throw ClientException.invalidArgument("tcp address %s needs a port", address);
            String host = hp.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
            b = NettyChannelBuilder.forAddress(host, Integer.parseInt(hp.substring(colon + 1)));
        } else {
            String path = address.startsWith("unix://") ? address.substring("unix://".length()) : address;
            // daemon threads: a CLI that forgets close() still exits
            loop = new EpollEventLoopGroup(1, new DefaultThreadFactory("jcontainerd-client", true));
            b = NettyChannelBuilder.forAddress(new DomainSocketAddress(path))
                    .eventLoopGroup(loop).channelType(EpollDomainSocketChannel.class);
        }
        ManagedChannel ch = b.usePlaintext().maxInboundMessageSize(MAX_MESSAGE).build();
        return new ContainerdClient(new Connection(ch, loop, address), namespace, null, true);
    }

    /** A view in another namespace. */
    public ContainerdClient withNamespace(String ns) {
        return new ContainerdClient(conn, ns, lease, false);
    }

    /** A view whose calls run under lease {@code id} (null: none). */
    public ContainerdClient withLease(String id) {
        return new ContainerdClient(conn, namespace, id, false);
    }

    public String namespace() {
        return namespace;
    }

    /** The lease sent with every call, or null. */
    public String lease() {
        return lease;
    }

    public String address() {
        return conn.address;
    }

    /** The channel with this view's namespace and lease headers applied, for stubs of other services. */
    public Channel channel() {
        return channel;
    }

    public NamespacesClient namespaces() {
        return new NamespacesClient(channel);
    }

    public ContentClient content() {
        return new ContentClient(channel);
    }

    public ImagesClient images() {
        return new ImagesClient(channel);
    }

    /** The snapshots of one snapshotter ("overlayfs", "native", ...). */
    public SnapshotsClient snapshots(String snapshotter) {
        return new SnapshotsClient(channel, snapshotter);
    }

    public DiffClient diff() {
        return new DiffClient(channel);
    }

    public LeasesClient leases() {
        return new LeasesClient(channel);
    }

    public EventsClient events() {
        return new EventsClient(channel);
    }

    public IntrospectionClient introspection() {
        return new IntrospectionClient(channel);
    }

    public ContainersClient containers() {
        return new ContainersClient(channel);
    }

    public TasksClient tasks() {
        return new TasksClient(channel);
    }

    public VersionClient.Version version() {
        return new VersionClient(channel).version();
    }

    /** Work that runs with a client bound to a temporary lease. */
    @FunctionalInterface
    public interface LeasedWork<T> {
        T run(ContainerdClient leased) throws Exception;
    }

    /**
     * Runs {@code work} under a new lease expiring after {@code expire} (so a crashed client's lease
     * still goes away), and deletes the lease afterwards, whatever happened. Content and snapshots
     * the work created stay only if something else (an image, a label) references them by then.
     */
    public <T> T withLease(Duration expire, LeasedWork<T> work) throws Exception {
        if (lease != null) return work.run(this);
        LeasesClient.Lease l = leases().create(null, Map.of(LEASE_EXPIRE_LABEL,
                Instant.now().plus(expire).truncatedTo(ChronoUnit.SECONDS).toString()));
        try {
            return work.run(withLease(l.id()));
        } finally {
            try {
                leases().delete(l.id(), false);
            } catch (ClientException e) {
                if (!e.isNotFound()) throw e;
            }
        }
    }

    @Override
    public void close() {
        if (!owner) return;
        conn.channel.shutdownNow();
        try {
            conn.channel.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (conn.loop != null) conn.loop.shutdownGracefully(0, 100, TimeUnit.MILLISECONDS);
    }

    private static final class HeaderInterceptor implements ClientInterceptor {
        private final String namespace;
        private final String lease;

        HeaderInterceptor(String namespace, String lease) {
            this.namespace = namespace;
            this.lease = lease;
        }

        @Override
        public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
            return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
                @Override
                public void start(Listener<R> listener, Metadata headers) {
                    if (namespace != null && !namespace.isEmpty()) headers.put(NS_KEY, namespace);
                    if (lease != null && !lease.isEmpty()) headers.put(LEASE_KEY, lease);
                    super.start(listener, headers);
                }
            };
        }
    }
}
