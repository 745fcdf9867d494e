package io.jcontainerd.ttrpc;

import static io.jcontainerd.ttrpc.FrameChannel.FLAG_REMOTE_CLOSED;
import static io.jcontainerd.ttrpc.FrameChannel.FLAG_REMOTE_OPEN;
import static io.jcontainerd.ttrpc.FrameChannel.TYPE_REQUEST;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import io.jcontainerd.api.ttrpc.KeyValue;
import io.jcontainerd.api.ttrpc.Request;
import io.jcontainerd.api.ttrpc.Response;
import io.jcontainerd.errdefs.ContainerdException;
import io.jcontainerd.errdefs.Errdefs;
import io.jcontainerd.errdefs.ErrorKind;
import io.jcontainerd.ttrpc.FrameChannel.Frame;
import io.jcontainerd.ttrpc.FrameChannel.OversizedFrameException;
import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A ttrpc client over one unix-socket connection. Calls from any number of threads share the
 * connection; a reader thread hands each incoming frame to the call waiting on its stream id.
 * Failures arrive as {@link ContainerdException}s: the server's status, DEADLINE_EXCEEDED when a
 * timeout passes, UNAVAILABLE "ttrpc: closed" once the connection is gone.
 */
public final class TtrpcClient implements AutoCloseable {
    private final FrameChannel channel;
    private final Map<Integer, ClientStream> calls = new ConcurrentHashMap<>();
    private final CompletableFuture<Void> closedFuture = new CompletableFuture<>();
    private volatile boolean closed;
    private int nextStreamId = 1; // guarded by the channel's write lock

    private TtrpcClient(SocketChannel socket) {
        this.channel = new FrameChannel(socket);
        Thread.ofVirtual().name("ttrpc-client-reader").start(this::readLoop);
    }

    public static TtrpcClient connect(Path socket) throws IOException {
        return new TtrpcClient(SocketChannel.open(UnixDomainSocketAddress.of(socket)));
    }

    /**
     * A unary call. {@code metadata} (keys lower-cased, as ttrpc does) and {@code timeout} may be
     * null; the timeout is sent to the server as the request's deadline and bounds the wait here.
     */
    public ByteString call(String service, String method, ByteString payload, Map<String, String> metadata, Duration timeout) {
        ClientStream s = open(service, method, null, payload, metadata, timeout);
        try {
            return s.awaitResponse();
        } finally {
            s.close();
        }
    }

    /** A unary call on protobuf messages. */
    public <T extends Message> T call(String service, String method, Message request, Parser<T> responseParser,
                                      Map<String, String> metadata, Duration timeout) {
        return parse(responseParser, call(service, method, request.toByteString(), metadata, timeout));
    }

    /** A unary call on protobuf messages, without metadata or timeout. */
    public <T extends Message> T call(String service, String method, Message request, Parser<T> responseParser) {
        return call(service, method, request, responseParser, null, null);
    }

    /**
     * Opens a streaming call. {@code request} is the single input message for a {@link StreamKind#SERVER}
     * stream; for client-streaming kinds it may be null (or a first message). The timeout, if any, bounds
     * the whole stream.
     */
    public ClientStream stream(String service, String method, StreamKind kind, ByteString request,
                               Map<String, String> metadata, Duration timeout) {
        return open(service, method, kind, request, metadata, timeout);
    }

    private ClientStream open(String service, String method, StreamKind kind, ByteString payload,
                              Map<String, String> metadata, Duration timeout) {
        Request.Builder req = Request.newBuilder().setService(service).setMethod(method);
        if (payload != null) req.setPayload(payload);
        if (metadata != null) {
            metadata.forEach((k, v) -> req.addMetadata(KeyValue.newBuilder().setKey(k.toLowerCase(Locale.ROOT)).setValue(v)));
        }
        long deadline = 0;
        if (timeout != null) {
            req.setTimeoutNano(Math.max(1, timeout.toNanos()));
            deadline = System.nanoTime() + timeout.toNanos();
        }
        byte flags = kind == null ? 0 : kind.clientStreams() ? FLAG_REMOTE_OPEN : FLAG_REMOTE_CLOSED;
        byte[] bytes = req.build().toByteArray();
        if (bytes.length > FrameChannel.MAX_PAYLOAD) throw FrameChannel.oversize(bytes.length);
        long dl = deadline;
        try {
            // ids must reach the wire in increasing order, so allocation and sending share the lock
            return channel.withWriteLock(() -> {
                if (closed) throw closedError();
                int id = nextStreamId;
                nextStreamId += 2;
                ClientStream s = new ClientStream(this, id, service + "/" + method, kind, timeout != null, dl);
                calls.put(id, s);
                channel.write(id, TYPE_REQUEST, flags, bytes);
                return s;
            });
        } catch (IOException e) {
            close();
            throw closedError();
        }
    }

    void send(int id, byte type, byte flags, byte[] payload) {
        if (closed) throw closedError();
        try {
            channel.write(id, type, flags, payload);
        } catch (IOException e) {
            close();
            throw closedError();
        }
    }

    void forget(int id) {
        calls.remove(id);
    }

    private void readLoop() {
        try {
            while (!closed) {
                Frame f;
                try {
                    f = channel.read();
                } catch (OversizedFrameException e) {
                    ClientStream s = calls.get(e.streamId);
                    if (s != null) s.fail(new ContainerdException(ErrorKind.RESOURCE_EXHAUSTED, e.getMessage()));
                    continue;
                }
                if (f == null) break;
                ClientStream s = calls.get(f.streamId());
                // frames for calls that already gave up (timeouts) are dropped
                if (s != null) s.deliver(f);
            }
        } catch (IOException e) {
            // the connection is broken: same outcome as a clean close
        } finally {
            close();
        }
    }

    /** Completes once the connection is closed, by either side. */
    public CompletionStage<Void> whenClosed() {
        return closedFuture;
    }

    public boolean isClosed() {
        return closed;
    }

    /** Closes the connection; pending and later calls fail with UNAVAILABLE "ttrpc: closed". */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) return;
            closed = true;
        }
        channel.close();
        for (ClientStream s : calls.values()) s.fail(closedError());
        calls.clear();
        closedFuture.complete(null);
    }

    static ContainerdException closedError() {
        return Errdefs.unavailable("ttrpc: closed");
    }

    static <T extends Message> T parse(Parser<T> parser, ByteString payload) {
        try {
            return parser.parseFrom(payload);
        } catch (InvalidProtocolBufferException e) {
            throw Errdefs.fromStatus(Errdefs.toStatus(Statuses.decodeError(e)));
        }
    }

    static Response parseResponse(byte[] payload) {
        try {
            return Response.parseFrom(payload);
        } catch (InvalidProtocolBufferException e) {
            throw Errdefs.fromStatus(Errdefs.toStatus(Statuses.decodeError(e)));
        }
    }
}
