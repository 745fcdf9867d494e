package io.jcontainerd.ttrpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import com.google.protobuf.StringValue;
import com.google.protobuf.UInt32Value;
import io.jcontainerd.api.ttrpc.KeyValue;
import io.jcontainerd.api.ttrpc.Request;
import io.jcontainerd.api.ttrpc.Response;
import io.jcontainerd.errdefs.ContainerdException;
import io.jcontainerd.errdefs.Errdefs;
import io.jcontainerd.errdefs.ErrorKind;
import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class TtrpcTest {
    static final String SVC = "test.v1.Echo";

    Path dir;
    Path sock;
    TtrpcServer server;
    TtrpcClient client;
    final CountDownLatch handlerCancelled = new CountDownLatch(1);
    final AtomicReference<RequestContext> seen = new AtomicReference<>();

    @BeforeEach
    void setUp() throws IOException {
        dir = Files.createTempDirectory("ttrpc");
        sock = dir.resolve("s.sock");
        server = new TtrpcServer();
        Map<String, Method> m = new HashMap<>();
        m.put("Echo", Method.unary((ctx, p) -> p));
        m.put("Upper", Method.unary(StringValue.parser(), (ctx, v) -> StringValue.of(v.getValue().toUpperCase())));
        m.put("Context", Method.unary((ctx, p) -> {
            seen.set(ctx);
            return ByteString.copyFromUtf8(ctx.namespace().orElse("-"));
        }));
        m.put("Sleep", Method.unary((ctx, p) -> {
            Thread.sleep(Long.parseLong(p.toStringUtf8()));
            return p;
        }));
        m.put("WaitCancel", Method.unary((ctx, p) -> {
            while (!ctx.isCancelled()) Thread.sleep(10);
            handlerCancelled.countDown();
            return null;
        }));
        m.put("NotFound", Method.unary((ctx, p) -> {
            throw Errdefs.notFound("thing %s not found", p.toStringUtf8());
        }));
        m.put("Boom", Method.unary((ctx, p) -> {
            throw new IllegalStateException("boom");
        }));
        m.put("Big", Method.unary((ctx, p) -> ByteString.copyFrom(new byte[FrameChannel.MAX_PAYLOAD + 1])));
        m.put("Sum", Method.stream(StreamKind.CLIENT, (ctx, s) -> {
            int sum = 0;
            for (UInt32Value v; (v = s.recv(UInt32Value.parser())) != null; ) sum += v.getValue();
            return UInt32Value.of(sum).toByteString();
        }));
        m.put("Count", Method.stream(StreamKind.SERVER, (ctx, s) -> {
            int n = s.recv(UInt32Value.parser()).getValue();
            for (int i = 0; i < n; i++) s.send(UInt32Value.of(i));
            return null;
        }));
        m.put("CountThenFail", Method.stream(StreamKind.SERVER, (ctx, s) -> {
            s.send(UInt32Value.of(1));
            throw Errdefs.failedPrecondition("gave up");
        }));
        m.put("Chat", Method.stream(StreamKind.BIDI, (ctx, s) -> {
            for (ByteString b; (b = s.recv()) != null; ) s.send(ByteString.copyFromUtf8("re:" + b.toStringUtf8()));
            return ByteString.copyFromUtf8("bye");
        }));
        server.register(SVC, m);
        server.start(sock);
        client = TtrpcClient.connect(sock);
    }

    @AfterEach
    void tearDown() throws IOException {
        client.close();
        server.close();
        try (var s = Files.list(dir)) {
            for (Path p : s.toList()) Files.deleteIfExists(p);
        }
        Files.deleteIfExists(dir);
    }

    static ByteString utf8(String s) {
        return ByteString.copyFromUtf8(s);
    }

    @Test
    void unaryRoundTrip() {
        assertThat(client.call(SVC, "Echo", utf8("hello"), null, null).toStringUtf8()).isEqualTo("hello");
        assertThat(client.call(SVC, "Echo", ByteString.EMPTY, null, null)).isEqualTo(ByteString.EMPTY);
        assertThat(client.call(SVC, "Upper", StringValue.of("shim"), StringValue.parser()).getValue()).isEqualTo("SHIM");
    }

    @Test
    void largePayloadJustUnderTheLimit() {
        byte[] b = new byte[FrameChannel.MAX_PAYLOAD - 1024];
        ThreadLocalRandom.current().nextBytes(b);
        ByteString out = client.call(SVC, "Echo", ByteString.copyFrom(b), null, null);
        assertThat(out.toByteArray()).isEqualTo(b);
    }

    @Test
    void manyConcurrentCallsOnOneConnection() throws Exception {
        int n = 500;
        try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<String>> results = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                String msg = "m" + i;
                results.add(ex.submit(() -> i2(msg)));
            }
            for (int i = 0; i < n; i++) assertThat(results.get(i).get()).isEqualTo("m" + i);
        }
    }

    private String i2(String msg) {
        // a mix of slow and fast calls so responses come back out of order
        if (msg.hashCode() % 3 == 0) client.call(SVC, "Sleep", utf8(String.valueOf(ThreadLocalRandom.current().nextInt(20))), null, null);
        return client.call(SVC, "Echo", utf8(msg), null, Duration.ofSeconds(30)).toStringUtf8();
    }

    @Test
    void callsRunConcurrentlyOnTheServer() throws Exception {
        long start = System.nanoTime();
        try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < 20; i++) ex.submit(() -> client.call(SVC, "Sleep", utf8("300"), null, null));
        }
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(3000));
    }

    @Test
    void metadataAndDeadlineReachTheMethod() {
        Map<String, String> md = Map.of(RequestContext.NAMESPACE_KEY, "k8s.io", "X-Other", "v");
        ByteString ns = client.call(SVC, "Context", ByteString.EMPTY, md, Duration.ofSeconds(10));
        assertThat(ns.toStringUtf8()).isEqualTo("k8s.io");
        RequestContext ctx = seen.get();
        assertThat(ctx.service()).isEqualTo(SVC);
        assertThat(ctx.method()).isEqualTo("Context");
        assertThat(ctx.metadata("x-other")).contains("v");
        assertThat(ctx.metadata("X-OTHER")).contains("v");
        assertThat(ctx.remaining().orElseThrow()).isBetween(Duration.ofSeconds(5), Duration.ofSeconds(10));

        client.call(SVC, "Context", ByteString.EMPTY, null, null);
        assertThat(seen.get().namespace()).isEmpty();
        assertThat(seen.get().deadline()).isEmpty();
    }

    @Test
    void repeatedMetadataKeysKeepAllValues() throws IOException {
        try (RawConn raw = new RawConn(sock)) {
            Request req = Request.newBuilder().setService(SVC).setMethod("Context")
                    .addMetadata(KeyValue.newBuilder().setKey("k").setValue("a"))
                    .addMetadata(KeyValue.newBuilder().setKey("k").setValue("b")).build();
            raw.send(1, 1, 0, req.toByteArray());
            raw.readFrame();
        }
        assertThat(seen.get().metadata()).containsEntry("k", List.of("a", "b"));
    }

    @Test
    void timeoutFailsTheCallButNotTheConnection() {
        assertThatThrownBy(() -> client.call(SVC, "Sleep", utf8("1000"), null, Duration.ofMillis(100)))
                .isInstanceOfSatisfying(ContainerdException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.DEADLINE_EXCEEDED));
        assertThat(client.call(SVC, "Echo", utf8("after"), null, Duration.ofSeconds(5)).toStringUtf8()).isEqualTo("after");
    }

    @Test
    void unknownServiceAndMethodAreUnimplemented() {
        assertThatThrownBy(() -> client.call("no.Such", "X", ByteString.EMPTY, null, null))
                .isInstanceOfSatisfying(ContainerdException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.NOT_IMPLEMENTED);
                    assertThat(e.getMessage()).isEqualTo("service no.Such not found");
                });
        assertThatThrownBy(() -> client.call(SVC, "Nope", ByteString.EMPTY, null, null))
                .isInstanceOfSatisfying(ContainerdException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.NOT_IMPLEMENTED);
                    assertThat(e.getMessage()).isEqualTo("method Nope not found");
                });
    }

    @Test
    void methodErrorsTravelAsStatus() {
        assertThatThrownBy(() -> client.call(SVC, "NotFound", utf8("x1"), null, null))
                .isInstanceOfSatisfying(ContainerdException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.NOT_FOUND);
                    assertThat(e.getMessage()).isEqualTo("thing x1 not found");
                });
        assertThatThrownBy(() -> client.call(SVC, "Boom", ByteString.EMPTY, null, null))
                .isInstanceOfSatisfying(ContainerdException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.UNKNOWN));
        // an undecodable request for a typed method
        assertThatThrownBy(() -> client.call(SVC, "Upper", ByteString.copyFrom(new byte[] {0x0a, 0x05}), null, null))
                .isInstanceOf(ContainerdException.class).hasMessageContaining("unmarshalling");
    }

    @Test
    void clientStreaming() {
        ClientStream s = client.stream(SVC, "Sum", StreamKind.CLIENT, null, null, Duration.ofSeconds(10));
        for (int i = 1; i <= 100; i++) s.send(UInt32Value.of(i));
        assertThat(TtrpcClient.parse(UInt32Value.parser(), s.closeAndRecv()).getValue()).isEqualTo(5050);
        assertThat(s.recv()).isNull();
        assertThatThrownBy(() -> s.send(UInt32Value.of(1))).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void clientStreamingWithNoMessages() {
        ClientStream s = client.stream(SVC, "Sum", StreamKind.CLIENT, null, null, null);
        assertThat(s.closeAndRecv()).isEqualTo(ByteString.EMPTY); // an all-zero UInt32Value
    }

    @Test
    void serverStreaming() {
        ClientStream s = client.stream(SVC, "Count", StreamKind.SERVER, UInt32Value.of(50).toByteString(), null, null);
        List<Integer> got = new ArrayList<>();
        for (UInt32Value v; (v = s.recv(UInt32Value.parser())) != null; ) got.add(v.getValue());
        assertThat(got).hasSize(50).startsWith(0, 1, 2).endsWith(49);
        assertThat(s.recv()).isNull();
    }

    @Test
    void serverStreamingError() {
        ClientStream s = client.stream(SVC, "CountThenFail", StreamKind.SERVER, ByteString.EMPTY, null, null);
        assertThat(s.recv(UInt32Value.parser()).getValue()).isEqualTo(1);
        assertThatThrownBy(s::recv).isInstanceOfSatisfying(ContainerdException.class, e -> {
            assertThat(e.kind()).isEqualTo(ErrorKind.FAILED_PRECONDITION);
            assertThat(e.getMessage()).isEqualTo("gave up");
        });
    }

    @Test
    void bidiStreaming() {
        ClientStream s = client.stream(SVC, "Chat", StreamKind.BIDI, null, null, Duration.ofSeconds(10));
        for (String w : List.of("a", "b", "c")) {
            s.send(utf8(w));
            assertThat(s.recv().toStringUtf8()).isEqualTo("re:" + w);
        }
        s.closeSend();
        assertThat(s.recv().toStringUtf8()).isEqualTo("bye");
        assertThat(s.recv()).isNull();
    }

    @Test
    void oversizeMessagesAreRefusedBothWays() {
        assertThatThrownBy(() -> client.call(SVC, "Echo", ByteString.copyFrom(new byte[FrameChannel.MAX_PAYLOAD]), null, null))
                .isInstanceOfSatisfying(ContainerdException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.RESOURCE_EXHAUSTED);
                    assertThat(e.getMessage()).contains("exceed maximum message size of 4194304");
                });
        assertThatThrownBy(() -> client.call(SVC, "Big", ByteString.EMPTY, null, null))
                .isInstanceOfSatisfying(ContainerdException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.RESOURCE_EXHAUSTED));
        assertThat(client.call(SVC, "Echo", utf8("still fine"), null, null).toStringUtf8()).isEqualTo("still fine");
    }

    @Test
    void oversizeFrameIsSkippedAndAnsweredOnItsStream() throws IOException {
        try (RawConn raw = new RawConn(sock)) {
            raw.sendHeaderAndZeros(1, 1, 0, FrameChannel.MAX_PAYLOAD + 1);
            Frame f = raw.readFrame();
            assertThat(f.streamId).isEqualTo(1);
            assertThat(f.type).isEqualTo(2);
            Response r = Response.parseFrom(f.payload);
            assertThat(r.getStatus().getCode()).isEqualTo(io.grpc.Status.Code.RESOURCE_EXHAUSTED.value());
            assertThat(r.getStatus().getMessage()).isEqualTo("message length 4194305 exceed maximum message size of 4194304");
            // the connection is still in step
            raw.send(3, 1, 0, Request.newBuilder().setService(SVC).setMethod("Echo").setPayload(utf8("ok")).build().toByteArray());
            Frame g = raw.readFrame();
            assertThat(g.streamId).isEqualTo(3);
            assertThat(Response.parseFrom(g.payload).getPayload().toStringUtf8()).isEqualTo("ok");
        }
    }

    @Test
    void clientSkipsOversizeFrameFromServer() throws Exception {
        Path fake = dir.resolve("fake.sock");
        try (ServerSocketChannel ssc = ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
            ssc.bind(UnixDomainSocketAddress.of(fake));
            CompletableFuture<Void> peer = CompletableFuture.runAsync(() -> {
                try (SocketChannel sc = ssc.accept(); RawConn raw = new RawConn(sc)) {
                    raw.readFrame(); // request 1
                    raw.sendHeaderAndZeros(1, 2, 0, FrameChannel.MAX_PAYLOAD + 10);
                    raw.readFrame(); // request 3
                    raw.send(3, 2, 0, Response.newBuilder().setPayload(utf8("second")).build().toByteArray());
                    assertThatThrownBy(raw::readFrame).isInstanceOf(java.io.EOFException.class); // the client hangs up
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            try (TtrpcClient c = TtrpcClient.connect(fake)) {
                assertThatThrownBy(() -> c.call("s", "m", ByteString.EMPTY, null, null))
                        .isInstanceOfSatisfying(ContainerdException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.RESOURCE_EXHAUSTED));
                // no status in the response means OK
                assertThat(c.call("s", "m", ByteString.EMPTY, null, null).toStringUtf8()).isEqualTo("second");
            }
            peer.get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void wireFormatOfAUnaryCall() throws IOException {
        try (RawConn raw = new RawConn(sock)) {
            byte[] req = Request.newBuilder().setService(SVC).setMethod("Echo").setPayload(utf8("x")).build().toByteArray();
            raw.send(7, 1, 0, req);
            Frame f = raw.readFrame();
            assertThat(f.streamId).isEqualTo(7);
            assertThat(f.type).isEqualTo(2);
            assertThat(f.flags).isEqualTo(0);
            Response r = Response.parseFrom(f.payload);
            assertThat(r.hasStatus()).isTrue();
            assertThat(r.getStatus().getCode()).isZero();
            assertThat(r.getPayload().toStringUtf8()).isEqualTo("x");

            // ids must be odd and increasing
            raw.send(8, 1, 0, req);
            assertThat(statusOf(raw.readFrame())).isEqualTo("INVALID_ARGUMENT: StreamID must be odd for client initiated streams");
            raw.send(5, 1, 0, req);
            assertThat(statusOf(raw.readFrame())).isEqualTo("INVALID_ARGUMENT: StreamID cannot be re-used and must increment");
            raw.send(9, 3, 0, new byte[0]);
            assertThat(statusOf(raw.readFrame())).isEqualTo("INVALID_ARGUMENT: StreamID is no longer active");
        }
    }

    @Test
    void wireFormatOfServerStreaming() throws IOException {
        try (RawConn raw = new RawConn(sock)) {
            byte[] req = Request.newBuilder().setService(SVC).setMethod("Count").setPayload(UInt32Value.of(2).toByteString()).build().toByteArray();
            raw.send(1, 1, 1, req); // remote-closed: the client sends nothing more
            Frame a = raw.readFrame();
            Frame b = raw.readFrame();
            Frame end = raw.readFrame();
            assertThat(List.of(a.type, a.flags, b.type, b.flags)).containsExactly(3, 0, 3, 0);
            assertThat(UInt32Value.parseFrom(b.payload).getValue()).isEqualTo(1);
            assertThat(end.type).isEqualTo(3);
            assertThat(end.flags).isEqualTo(1 | 4); // remote-closed, no data
            assertThat(end.payload).isEmpty();
        }
    }

    @Test
    void serverCloseFailsPendingAndLaterCalls() throws Exception {
        CompletableFuture<ByteString> pending = CompletableFuture.supplyAsync(
                () -> client.call(SVC, "Sleep", utf8("5000"), null, null), Executors.newVirtualThreadPerTaskExecutor());
        Thread.sleep(200);
        server.close();
        assertThatThrownBy(() -> pending.get(5, TimeUnit.SECONDS)).cause().isInstanceOfSatisfying(ContainerdException.class, e -> {
            assertThat(e.kind()).isEqualTo(ErrorKind.UNAVAILABLE);
            assertThat(e.getMessage()).isEqualTo("ttrpc: closed");
        });
        client.whenClosed().toCompletableFuture().get(5, TimeUnit.SECONDS);
        assertThat(client.isClosed()).isTrue();
        assertThatThrownBy(() -> client.call(SVC, "Echo", ByteString.EMPTY, null, null))
                .isInstanceOfSatisfying(ContainerdException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.UNAVAILABLE));
        assertThat(sock).doesNotExist();
    }

    @Test
    void clientDisconnectCancelsRunningCalls() throws Exception {
        ClientStream open = client.stream(SVC, "Chat", StreamKind.BIDI, null, null, null);
        CompletableFuture.runAsync(() -> client.call(SVC, "WaitCancel", ByteString.EMPTY, null, null));
        Thread.sleep(200);
        client.close();
        assertThat(handlerCancelled.await(5, TimeUnit.SECONDS)).isTrue();
        assertThatThrownBy(open::recv).isInstanceOfSatisfying(ContainerdException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.UNAVAILABLE));
    }

    @Test
    void staleSocketIsReplacedButALiveOneIsNot() throws IOException {
        Path stale = dir.resolve("stale.sock");
        try (ServerSocketChannel ssc = ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
            ssc.bind(UnixDomainSocketAddress.of(stale));
        } // closed: the file stays behind with nobody listening
        assertThat(stale).exists();
        try (TtrpcServer s2 = new TtrpcServer()) {
            s2.register(SVC, Map.of("Echo", Method.unary((ctx, p) -> p)));
            s2.start(stale);
            try (TtrpcClient c = TtrpcClient.connect(stale)) {
                assertThat(c.call(SVC, "Echo", utf8("y"), null, null).toStringUtf8()).isEqualTo("y");
            }
        }
        assertThat(stale).doesNotExist();

        try (TtrpcServer s3 = new TtrpcServer()) {
            assertThatThrownBy(() -> s3.start(sock))
                    .isInstanceOfSatisfying(ContainerdException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.ALREADY_EXISTS));
        }
        assertThat(sock).exists(); // the failed server must not remove the live one's socket
        assertThatThrownBy(() -> server.register(SVC, Map.of())).isInstanceOf(IllegalStateException.class);
    }

    private static String statusOf(Frame f) throws IOException {
        assertThat(f.type).isEqualTo(2);
        com.google.rpc.Status s = Response.parseFrom(f.payload).getStatus();
        return io.grpc.Status.fromCodeValue(s.getCode()).getCode() + ": " + s.getMessage();
    }

    record Frame(int streamId, int type, int flags, byte[] payload) {}

    /** A bare socket speaking frames by hand, to check the bytes on the wire. */
    static final class RawConn implements AutoCloseable {
        final SocketChannel sc;

        RawConn(Path p) throws IOException {
            this(SocketChannel.open(UnixDomainSocketAddress.of(p)));
        }

        RawConn(SocketChannel sc) {
            this.sc = sc;
        }

        void send(int id, int type, int flags, byte[] payload) throws IOException {
            ByteBuffer b = ByteBuffer.allocate(10 + payload.length);
            b.putInt(payload.length).putInt(id).put((byte) type).put((byte) flags).put(payload).flip();
            while (b.hasRemaining()) sc.write(b);
        }

        void sendHeaderAndZeros(int id, int type, int flags, int length) throws IOException {
            ByteBuffer h = ByteBuffer.allocate(10).putInt(length).putInt(id).put((byte) type).put((byte) flags).flip();
            while (h.hasRemaining()) sc.write(h);
            ByteBuffer zeros = ByteBuffer.allocate(64 * 1024);
            for (int left = length; left > 0; ) {
                zeros.clear().limit(Math.min(left, zeros.capacity()));
                left -= sc.write(zeros);
            }
        }

        Frame readFrame() throws IOException {
            ByteBuffer h = readN(10);
            int len = h.getInt();
            int id = h.getInt();
            int type = h.get();
            int flags = h.get();
            return new Frame(id, type, flags, readN(len).array());
        }

        private ByteBuffer readN(int n) throws IOException {
            ByteBuffer b = ByteBuffer.allocate(n);
            while (b.hasRemaining()) {
                if (sc.read(b) < 0) throw new java.io.EOFException();
            }
            return b.flip();
        }

        @Override
        public void close() throws IOException {
            sc.close();
        }
    }
}
