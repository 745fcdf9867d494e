package io.jcontainerd.ttrpc;

import static io.jcontainerd.ttrpc.FrameChannel.FLAG_NO_DATA;
import static io.jcontainerd.ttrpc.FrameChannel.FLAG_REMOTE_CLOSED;
import static io.jcontainerd.ttrpc.FrameChannel.TYPE_DATA;
import static io.jcontainerd.ttrpc.FrameChannel.TYPE_RESPONSE;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import io.jcontainerd.api.ttrpc.Response;
import io.jcontainerd.errdefs.ContainerdException;
import io.jcontainerd.errdefs.ErrorKind;
import io.jcontainerd.ttrpc.FrameChannel.Frame;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The client's side of one call. Unary calls use it internally; streaming calls get it from
 * {@link TtrpcClient#stream}. Sending and receiving may happen on different threads, but each
 * direction from one thread at a time.
 */
public final class ClientStream implements AutoCloseable {
    private static final byte[] EMPTY = new byte[0];

    private final TtrpcClient client;
    private final int id;
    private final String name;
    private final StreamKind kind; // null: unary
    private final boolean hasDeadline;
    private final long deadline; // System.nanoTime() based
    /** Frames from the reader thread, or a ContainerdException that ends the call. */
    private final BlockingQueue<Object> inbox = new LinkedBlockingQueue<>();
    private volatile boolean localClosed;
    private boolean remoteClosed;

    ClientStream(TtrpcClient client, int id, String name, StreamKind kind, boolean hasDeadline, long deadline) {
        this.client = client;
        this.id = id;
        this.name = name;
        this.kind = kind;
        this.hasDeadline = hasDeadline;
        this.deadline = deadline;
        this.localClosed = kind == null || !kind.clientStreams();
    }

    void deliver(Frame f) {
        inbox.add(f);
    }

    void fail(ContainerdException e) {
        inbox.add(e);
    }

    /** Sends one message; only on client-streaming kinds, before {@link #closeSend()}. */
    public void send(ByteString message) {
        if (localClosed) throw new IllegalStateException("ttrpc: cannot send on " + name + ": stream closed for sending");
        client.send(id, TYPE_DATA, (byte) 0, message.toByteArray());
    }

    public void send(Message message) {
        send(message.toByteString());
    }

    /** Tells the server this side has nothing more to send. */
    public void closeSend() {
        if (localClosed) throw new IllegalStateException("ttrpc: " + name + " already closed for sending");
        client.send(id, TYPE_DATA, (byte) (FLAG_REMOTE_CLOSED | FLAG_NO_DATA), EMPTY);
        localClosed = true;
    }

    /**
     * The next message from the server, or null when the server has finished. For a client-only
     * stream the one message is the final response.
     *
     * @throws ContainerdException the server's error status, DEADLINE_EXCEEDED, or UNAVAILABLE
     */
    public ByteString recv() {
        if (remoteClosed) return null;
        Frame f = next();
        if (f.type() == TYPE_RESPONSE) {
            finished();
            return payloadOf(f);
        }
        if (f.type() == TYPE_DATA) {
            if (kind == null || !kind.serverStreams()) {
                finished();
                throw new ContainerdException(ErrorKind.UNKNOWN, "ttrpc: received data from non-streaming server: protocol error");
            }
            if (f.has(FLAG_REMOTE_CLOSED)) {
                finished();
                if (f.has(FLAG_NO_DATA)) return null;
            }
            return ByteString.copyFrom(f.payload());
        }
        finished();
        throw new ContainerdException(ErrorKind.UNKNOWN, "ttrpc: unexpected message type " + f.type() + " received: protocol error");
    }

    public <T extends Message> T recv(Parser<T> parser) {
        ByteString b = recv();
        return b == null ? null : TtrpcClient.parse(parser, b);
    }

    /** For client-only streams: closes the sending side and waits for the response. */
    public ByteString closeAndRecv() {
        closeSend();
        return recv();
    }

    /** The unary case: exactly one response frame. */
    ByteString awaitResponse() {
        Frame f = next();
        if (f.type() != TYPE_RESPONSE) {
            throw new ContainerdException(ErrorKind.UNKNOWN, "ttrpc: unexpected message type " + f.type() + " received: protocol error");
        }
        return payloadOf(f);
    }

    private Frame next() {
        Object o;
        try {
            if (!hasDeadline) {
                o = inbox.take();
            } else {
                o = inbox.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            close();
            throw new ContainerdException(ErrorKind.CANCELED, "ttrpc: " + name + ": context canceled", e);
        }
        if (o == null) {
            close();
            throw new ContainerdException(ErrorKind.DEADLINE_EXCEEDED, "ttrpc: " + name + ": context deadline exceeded");
        }
        if (o instanceof ContainerdException e) {
            inbox.add(e); // keep failing later receives too
            throw e;
        }
        return (Frame) o;
    }

    private static ByteString payloadOf(Frame f) {
        Response r = TtrpcClient.parseResponse(f.payload());
        // a missing status means OK
        if (r.hasStatus() && r.getStatus().getCode() != 0) throw Statuses.toException(r.getStatus());
        return r.getPayload();
    }

    private void finished() {
        remoteClosed = true;
        client.forget(id);
    }

    /** Abandons the call: later frames for it are dropped. */
    @Override
    public void close() {
        client.forget(id);
    }
}
