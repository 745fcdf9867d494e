package io.jcontainerd.ttrpc;

import static io.jcontainerd.ttrpc.FrameChannel.FLAG_NO_DATA;
import static io.jcontainerd.ttrpc.FrameChannel.FLAG_REMOTE_CLOSED;
import static io.jcontainerd.ttrpc.FrameChannel.TYPE_DATA;
import static io.jcontainerd.ttrpc.FrameChannel.TYPE_REQUEST;
import static io.jcontainerd.ttrpc.FrameChannel.TYPE_RESPONSE;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.Status.Code;
import io.jcontainerd.api.ttrpc.KeyValue;
import io.jcontainerd.api.ttrpc.Request;
import io.jcontainerd.api.ttrpc.Response;
import io.jcontainerd.errdefs.Errdefs;
import io.jcontainerd.ttrpc.FrameChannel.Frame;
import io.jcontainerd.ttrpc.FrameChannel.OversizedFrameException;
import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/** One accepted connection: reads frames, starts calls, writes their results. */
final class ServerConnection implements Runnable {
    private final FrameChannel channel;
    private final Map<String, Map<String, Method>> services;
    private final Consumer<ServerConnection> onClose;
    /** Streaming calls that still accept data frames from the client. */
    private final Map<Integer, Call> streams = new ConcurrentHashMap<>();
    private volatile boolean closed;
    private int lastStreamId; // compared unsigned; only the reader thread touches it

    ServerConnection(SocketChannel socket, Map<String, Map<String, Method>> services, Consumer<ServerConnection> onClose) {
        this.channel = new FrameChannel(socket);
        this.services = services;
        this.onClose = onClose;
    }

    @Override
    public void run() {
        try {
            while (!closed) {
                Frame f;
                try {
                    f = channel.read();
                } catch (OversizedFrameException e) {
                    // the frame was skipped, so the connection is still in step: fail only its stream
                    failStream(e.streamId, Statuses.of(Code.RESOURCE_EXHAUSTED, e.getMessage()));
                    continue;
                }
                if (f == null) break;
                handle(f);
            }
        } catch (IOException e) {
            if (!closed) TtrpcServer.Log.debug("ttrpc: connection ended: " + e);
        } finally {
            close();
        }
    }

    private void handle(Frame f) throws IOException {
        int id = f.streamId();
        if ((id & 1) == 0) {
            failStream(id, Statuses.of(Code.INVALID_ARGUMENT, "StreamID must be odd for client initiated streams"));
            return;
        }
        switch (f.type()) {
            case TYPE_REQUEST -> {
                if (Integer.compareUnsigned(id, lastStreamId) <= 0) {
                    failStream(id, Statuses.of(Code.INVALID_ARGUMENT, "StreamID cannot be re-used and must increment"));
                    return;
                }
                lastStreamId = id;
                Request req;
                try {
                    req = Request.parseFrom(f.payload());
                } catch (InvalidProtocolBufferException e) {
                    failStream(id, Statuses.of(Code.INVALID_ARGUMENT, "unmarshal request error: " + e.getMessage()));
                    return;
                }
                start(id, f.flags(), req);
            }
            case TYPE_DATA -> {
                Call call = streams.get(id);
                if (call == null) {
                    failStream(id, Statuses.of(Code.INVALID_ARGUMENT, "StreamID is no longer active"));
                    return;
                }
                if (!f.has(FLAG_NO_DATA) && !call.deliver(ByteString.copyFrom(f.payload()))) {
                    streams.remove(id);
                    call.finish(Statuses.of(Code.INVALID_ARGUMENT, "data handling error: ttrpc: stream closed"), null);
                    return;
                }
                // A closing frame may carry a last message (delivered above); the Go client never sends one.
                if (f.has(FLAG_REMOTE_CLOSED)) {
                    call.endOfInput();
                    if (!call.kind.serverStreams()) streams.remove(id);
                }
            }
            default -> { } // responses from a client and unknown types are ignored, for forward compatibility
        }
    }

    private void start(int id, byte flags, Request req) throws IOException {
        Map<String, Method> service = services.get(req.getService());
        if (service == null) {
            failStream(id, Statuses.of(Code.UNIMPLEMENTED, "service " + req.getService() + " not found"));
            return;
        }
        Method method = service.get(req.getMethod());
        if (method == null) {
            failStream(id, Statuses.of(Code.UNIMPLEMENTED, "method " + req.getMethod() + " not found"));
            return;
        }
        RequestContext ctx = new RequestContext(req.getService(), req.getMethod(), metadata(req), deadline(req), () -> closed);
        switch (method) {
            case Method.Unary unary -> {
                Call call = new Call(id, null);
                Thread.ofVirtual().start(() -> call.complete(() -> unary.call(ctx, req.getPayload())));
            }
            case Method.Streaming(StreamKind kind, Method.StreamHandler handler) -> {
                Call call = new Call(id, kind);
                streams.put(id, call);
                // The request's payload is the first message, except an absent one from a streaming client.
                if (!kind.clientStreams() || !req.getPayload().isEmpty()) call.deliver(req.getPayload());
                if (!kind.clientStreams() || (flags & FLAG_REMOTE_CLOSED) != 0) call.endOfInput();
                Thread.ofVirtual().start(() -> {
                    call.complete(() -> handler.handle(ctx, call));
                    streams.remove(id, call);
                });
            }
        }
    }

    private static Map<String, List<String>> metadata(Request req) {
        if (req.getMetadataCount() == 0) return Map.of();
        Map<String, List<String>> md = new LinkedHashMap<>();
        for (KeyValue kv : req.getMetadataList()) md.computeIfAbsent(kv.getKey(), k -> new ArrayList<>()).add(kv.getValue());
        md.replaceAll((k, v) -> List.copyOf(v));
        return Map.copyOf(md);
    }

    private static Instant deadline(Request req) {
        // a non-positive timeout means the caller gave none
        return req.getTimeoutNano() > 0 ? Instant.now().plusNanos(req.getTimeoutNano()) : null;
    }

    /** Ends a stream that never reached a method (or broke the protocol) with an error response. */
    private void failStream(int id, com.google.rpc.Status status) throws IOException {
        Call call = streams.remove(id);
        if (call != null) {
            call.finish(status, null);
        } else {
            writeResponse(id, status, null);
        }
    }

    private void writeResponse(int id, com.google.rpc.Status status, ByteString payload) throws IOException {
        Response.Builder r = Response.newBuilder().setStatus(status);
        if (payload != null) r.setPayload(payload);
        channel.write(id, TYPE_RESPONSE, (byte) 0, r.build().toByteArray());
    }

    void close() {
        if (closed) return;
        closed = true;
        channel.close();
        for (Call c : streams.values()) c.endOfInput();
        streams.clear();
        onClose.accept(this);
    }

    /** One call's server side; also the {@link ServerStream} its handler works with. */
    private final class Call implements ServerStream {
        private static final Object END = new Object();
        final int id;
        final StreamKind kind; // null for unary calls
        private final BlockingQueue<Object> inbound = new LinkedBlockingQueue<>();
        private final AtomicBoolean inputEnded = new AtomicBoolean();
        private final AtomicBoolean finished = new AtomicBoolean();

        Call(int id, StreamKind kind) {
            this.id = id;
            this.kind = kind;
        }

        /** Queues a client message; false if the client had already closed its side. */
        boolean deliver(ByteString message) {
            if (inputEnded.get()) return false;
            inbound.add(message);
            return true;
        }

        void endOfInput() {
            if (inputEnded.compareAndSet(false, true)) inbound.add(END);
        }

        @Override
        public ByteString recv() throws InterruptedException {
            Object o = inbound.take();
            if (o == END) {
                inbound.add(END); // later calls see the end too
                if (closed) throw Errdefs.unavailable("ttrpc: closed");
                return null;
            }
            return (ByteString) o;
        }

        @Override
        public void send(ByteString message) {
            if (!kind.serverStreams()) throw new IllegalStateException("ttrpc: a " + kind + " stream does not send to the client");
            if (finished.get()) throw new IllegalStateException("ttrpc: stream closed");
            if (!write(() -> channel.write(id, TYPE_DATA, (byte) 0, message.toByteArray()))) {
                throw Errdefs.unavailable("ttrpc: closed");
            }
        }

        /** Runs the method and sends its outcome. */
        void complete(Body body) {
            ByteString result;
            try {
                result = body.run();
            } catch (Throwable t) {
                finish(Statuses.of(t), null);
                return;
            }
            finish(Statuses.OK, result);
        }

        /** Sends the call's last frame, once; quietly gives up if the connection is gone. */
        void finish(com.google.rpc.Status status, ByteString last) {
            if (!finished.compareAndSet(false, true)) return;
            if (last != null && last.size() > FrameChannel.MAX_PAYLOAD) {
                // refuse to send it, but still end the call so the client does not wait forever
                status = Statuses.of(Code.RESOURCE_EXHAUSTED, FrameChannel.oversizeMessage(last.size()));
                last = null;
            }
            com.google.rpc.Status st = status;
            ByteString payload = last;
            if (st.getCode() == 0 && kind != null && kind.serverStreams()) {
                byte flags = (byte) (FLAG_REMOTE_CLOSED | (payload == null ? FLAG_NO_DATA : 0));
                write(() -> channel.write(id, TYPE_DATA, flags, payload == null ? new byte[0] : payload.toByteArray()));
            } else {
                write(() -> writeResponse(id, st, payload));
            }
        }

        /** False if the connection is (now) closed. */
        private boolean write(IoAction action) {
            if (closed) return false;
            try {
                action.run();
                return true;
            } catch (IOException e) {
                ServerConnection.this.close();
                return false;
            }
        }
    }

    private interface Body {
        ByteString run() throws Exception;
    }

    private interface IoAction {
        void run() throws IOException;
    }
}
