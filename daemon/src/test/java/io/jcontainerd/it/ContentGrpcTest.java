package io.jcontainerd.it;

import static io.jcontainerd.testing.DaemonProcess.inNamespace;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import com.google.protobuf.FieldMask;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.jcontainerd.api.events.ContentDelete;
import io.jcontainerd.api.services.content.v1.AbortRequest;
import io.jcontainerd.api.services.content.v1.ContentGrpc;
import io.jcontainerd.api.services.content.v1.DeleteContentRequest;
import io.jcontainerd.api.services.content.v1.Info;
import io.jcontainerd.api.services.content.v1.InfoRequest;
import io.jcontainerd.api.services.content.v1.ListContentRequest;
import io.jcontainerd.api.services.content.v1.ListStatusesRequest;
import io.jcontainerd.api.services.content.v1.ReadContentRequest;
import io.jcontainerd.api.services.content.v1.ReadContentResponse;
import io.jcontainerd.api.services.content.v1.StatusRequest;
import io.jcontainerd.api.services.content.v1.UpdateRequest;
import io.jcontainerd.api.services.content.v1.WriteAction;
import io.jcontainerd.api.services.content.v1.WriteContentRequest;
import io.jcontainerd.api.services.content.v1.WriteContentResponse;
import io.jcontainerd.api.services.events.v1.EventsGrpc;
import io.jcontainerd.api.services.events.v1.SubscribeRequest;
import io.jcontainerd.api.services.leases.v1.CreateRequest;
import io.jcontainerd.api.services.leases.v1.LeasesGrpc;
import io.jcontainerd.api.services.leases.v1.ListResourcesRequest;
import io.jcontainerd.api.services.leases.v1.Resource;
import io.jcontainerd.testing.DaemonProcess;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The Content and Leases services over gRPC: the protocol details ctr does not show. */
class ContentGrpcTest {
    static DaemonProcess daemon;

    @BeforeAll
    static void start() throws Exception {
        // most blobs here are written without a lease: a collection running between a test's writes and
        // its reads or deletes would remove them (GcCtrTest covers what the collector keeps)
        daemon = DaemonProcess.start(DaemonProcess.WITHOUT_AUTOMATIC_GC);
    }

    @AfterAll
    static void stop() {
        if (daemon != null) daemon.close();
    }

    static ContentGrpc.ContentBlockingStub content(String ns) {
        return inNamespace(ContentGrpc.newBlockingStub(daemon.channel()), ns);
    }

    static String sha256(byte[] data) throws Exception {
        return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    }

    /** A Write stream driven one message at a time. */
    static final class WriteStream implements AutoCloseable {
        final LinkedBlockingQueue<Object> received = new LinkedBlockingQueue<>();
        final StreamObserver<WriteContentRequest> requests;

        WriteStream(String ns, String lease) {
            var stub = inNamespace(ContentGrpc.newStub(daemon.channel()), ns);
            if (lease != null) {
                Metadata md = new Metadata();
                md.put(Metadata.Key.of("containerd-lease", Metadata.ASCII_STRING_MARSHALLER), lease);
                stub = stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md));
            }
            requests = stub.write(new StreamObserver<>() {
                @Override
                public void onNext(WriteContentResponse r) {
                    received.add(r);
                }

                @Override
                public void onError(Throwable t) {
                    received.add(t);
                }

                @Override
                public void onCompleted() {
                    received.add("completed");
                }
            });
        }

        Object next() throws InterruptedException {
            Object o = received.poll(10, TimeUnit.SECONDS);
            assertThat(o).as("a response").isNotNull();
            return o;
        }

        WriteContentResponse send(WriteContentRequest.Builder req) throws InterruptedException {
            requests.onNext(req.build());
            Object o = next();
            if (o instanceof StatusRuntimeException e) throw e;
            return (WriteContentResponse) o;
        }

        Status.Code failure(WriteContentRequest.Builder req) throws InterruptedException {
            requests.onNext(req.build());
            Object o = next();
            assertThat(o).isInstanceOf(StatusRuntimeException.class);
            return ((StatusRuntimeException) o).getStatus().getCode();
        }

        @Override
        public void close() {
            try {
                requests.onCompleted();
            } catch (RuntimeException ignored) {
                // already closed by the server
            }
        }
    }

    static WriteContentRequest.Builder stat(String ref) {
        return WriteContentRequest.newBuilder().setAction(WriteAction.STAT).setRef(ref);
    }

    static WriteContentRequest.Builder write(long offset, String data) {
        return WriteContentRequest.newBuilder().setAction(WriteAction.WRITE).setOffset(offset)
                .setData(ByteString.copyFromUtf8(data));
    }

    @Test
    void writeStatWriteCommitResponsesFollowContainerd() throws Exception {
        byte[] data = "0123456789".getBytes(StandardCharsets.UTF_8);
        String dgst = sha256(data);
        try (WriteStream w = new WriteStream("wr", null)) {
            WriteContentResponse st = w.send(stat("proto").setTotal(10));
            assertThat(st.getAction()).isEqualTo(WriteAction.STAT);
            assertThat(st.getOffset()).isZero();
            assertThat(st.getTotal()).isEqualTo(10);
            assertThat(st.getDigest()).isEqualTo(sha256(new byte[0]));
            assertThat(st.getStartedAt().getSeconds()).isPositive();

            WriteContentResponse wr = w.send(write(0, "01234"));
            assertThat(wr.getAction()).isEqualTo(WriteAction.WRITE);
            assertThat(wr.getOffset()).isEqualTo(5);
            assertThat(wr.getDigest()).isEqualTo(sha256("01234".getBytes(StandardCharsets.UTF_8)));
            // the response message is reused: fields from the STAT stay set
            assertThat(wr.getTotal()).isEqualTo(10);

            assertThat(content("wr").status(StatusRequest.newBuilder().setRef("proto").build()).getStatus())
                    .satisfies(s -> {
                        assertThat(s.getRef()).isEqualTo("proto");
                        assertThat(s.getOffset()).isEqualTo(5);
                    });

            WriteContentResponse commit = w.send(write(5, "56789").setAction(WriteAction.COMMIT).setExpected(dgst)
                    .putLabels("source", "grpc"));
            assertThat(commit.getAction()).isEqualTo(WriteAction.COMMIT);
            assertThat(commit.getOffset()).isEqualTo(10);
            assertThat(commit.getDigest()).isEqualTo(dgst);
            // containerd sends the final response once more before closing the stream
            assertThat(w.next()).isEqualTo(commit);
            assertThat(w.next()).isEqualTo("completed");
        }
        Info info = content("wr").info(InfoRequest.newBuilder().setDigest(dgst).build()).getInfo();
        assertThat(info.getSize()).isEqualTo(10);
        assertThat(info.getLabelsMap()).containsEntry("source", "grpc");
    }

    @Test
    void writeErrorsAsContainerd() throws Exception {
        try (WriteStream w = new WriteStream("wr-err", null)) {
            assertThat(w.failure(WriteContentRequest.newBuilder().setAction(WriteAction.STAT))).isEqualTo(Status.Code.INVALID_ARGUMENT);
        }
        try (WriteStream w = new WriteStream("wr-err", null)) {
            w.send(stat("off"));
            w.send(write(0, "abc"));
            assertThat(w.failure(write(7, "x"))).isEqualTo(Status.Code.OUT_OF_RANGE);
        }
        // the failed stream released the ref; offset 0 on a started ingest restarts it
        try (WriteStream w = new WriteStream("wr-err", null)) {
            assertThat(w.send(stat("off")).getOffset()).isEqualTo(3);
            assertThat(w.send(write(0, "zz")).getOffset()).isEqualTo(2);
            // a second writer on the same ref while this one holds it
            try (WriteStream other = new WriteStream("wr-err", null)) {
                assertThat(other.failure(stat("off"))).isEqualTo(Status.Code.UNAVAILABLE);
            }
            // but the same ref in another namespace is a different ingest
            try (WriteStream other = new WriteStream("wr-err-2", null)) {
                assertThat(other.send(stat("off")).getOffset()).isZero();
            }
            assertThat(w.failure(write(2, "!").setAction(WriteAction.COMMIT).setExpected("sha256:" + "1".repeat(64))))
                    .isEqualTo(Status.Code.FAILED_PRECONDITION);
        }
        assertThat(content("wr-err").listStatuses(ListStatusesRequest.getDefaultInstance()).getStatusesList())
                .extracting(s -> s.getRef() + "@" + s.getOffset()).containsExactly("off@3");
        content("wr-err").abort(AbortRequest.newBuilder().setRef("off").build());
        assertThat(content("wr-err").listStatuses(ListStatusesRequest.getDefaultInstance()).getStatusesList()).isEmpty();
        assertThatThrownBy(() -> content("wr-err").status(StatusRequest.newBuilder().setRef("off").build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
                    assertThat(e.getStatus().getDescription()).startsWith("could not get status for ref \"off\"");
                });
    }

    @Test
    void expectedDigestAlreadyInTheNamespaceIsAlreadyExists() throws Exception {
        byte[] data = "exists".getBytes(StandardCharsets.UTF_8);
        String dgst = sha256(data);
        try (WriteStream w = new WriteStream("ae", null)) {
            w.send(stat("one"));
            w.send(write(0, "exists").setAction(WriteAction.COMMIT));
        }
        try (WriteStream w = new WriteStream("ae", null)) {
            assertThat(w.failure(stat("two").setExpected(dgst))).isEqualTo(Status.Code.ALREADY_EXISTS);
        }
        // a stream started without expectation learns of it later and is aborted
        try (WriteStream w = new WriteStream("ae", null)) {
            w.send(stat("three"));
            assertThat(w.failure(write(0, "exists").setExpected(dgst))).isEqualTo(Status.Code.ALREADY_EXISTS);
        }
        assertThat(content("ae").listStatuses(ListStatusesRequest.getDefaultInstance()).getStatusesList()).isEmpty();
    }

    @Test
    void writesUnderALeaseHeaderAreHeldByTheLease() throws Exception {
        var leases = inNamespace(LeasesGrpc.newBlockingStub(daemon.channel()), "leased");
        leases.create(CreateRequest.newBuilder().setId("pull").build());
        byte[] data = "leased blob".getBytes(StandardCharsets.UTF_8);
        try (WriteStream w = new WriteStream("leased", "pull")) {
            w.send(stat("layer"));
            assertThat(leases.listResources(ListResourcesRequest.newBuilder().setId("pull").build()).getResourcesList())
                    .containsExactly(Resource.newBuilder().setId("layer").setType("ingests").build());
            w.send(write(0, "leased blob").setAction(WriteAction.COMMIT));
        }
        assertThat(leases.listResources(ListResourcesRequest.newBuilder().setId("pull").build()).getResourcesList())
                .containsExactly(Resource.newBuilder().setId(sha256(data)).setType("content").build());
        try (WriteStream w = new WriteStream("leased", "no-such-lease")) {
            assertThat(w.failure(stat("x"))).isEqualTo(Status.Code.NOT_FOUND);
        }
    }

    @Test
    void readHonoursOffsetAndSizeAndRejectsReadsPastTheEnd() throws Exception {
        try (WriteStream w = new WriteStream("rd", null)) {
            w.send(stat("r"));
            w.send(write(0, "abcdefghij").setAction(WriteAction.COMMIT));
        }
        String dgst = sha256("abcdefghij".getBytes(StandardCharsets.UTF_8));
        assertThat(read("rd", dgst, 2, 3)).isEqualTo("cde");
        assertThat(read("rd", dgst, 4, 0)).isEqualTo("efghij");
        assertThat(read("rd", dgst, 8, 100)).isEqualTo("ij");
        assertThat(read("rd", dgst, 10, 0)).isEmpty();
        Iterator<ReadContentResponse> it = content("rd").read(ReadContentRequest.newBuilder().setDigest(dgst).setOffset(3).build());
        assertThat(it.next().getOffset()).isZero(); // offsets count from the start of the read, as containerd's
        assertThatThrownBy(() -> read("rd", dgst, 11, 0)).isInstanceOfSatisfying(StatusRuntimeException.class,
                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.OUT_OF_RANGE));
        assertThatThrownBy(() -> read("other", dgst, 0, 0)).isInstanceOfSatisfying(StatusRuntimeException.class,
                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
        assertThatThrownBy(() -> read("rd", "sha256:nothex", 0, 0)).isInstanceOfSatisfying(StatusRuntimeException.class,
                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
    }

    static String read(String ns, String dgst, long offset, long size) {
        StringBuilder sb = new StringBuilder();
        content(ns).read(ReadContentRequest.newBuilder().setDigest(dgst).setOffset(offset).setSize(size).build())
                .forEachRemaining(r -> sb.append(r.getData().toStringUtf8()));
        return sb.toString();
    }

    @Test
    void listUpdateAndDeleteWithEvent() throws Exception {
        List<String> digests = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            try (WriteStream w = new WriteStream("lud", null)) {
                w.send(stat("r" + i));
                w.send(write(0, "blob " + i).setAction(WriteAction.COMMIT).putLabels("n", String.valueOf(i)));
            }
            digests.add(sha256(("blob " + i).getBytes(StandardCharsets.UTF_8)));
        }
        List<String> listed = new ArrayList<>();
        content("lud").list(ListContentRequest.getDefaultInstance()).forEachRemaining(r -> r.getInfoList().forEach(i -> listed.add(i.getDigest())));
        assertThat(listed).containsExactlyInAnyOrderElementsOf(digests);

        Info updated = content("lud").update(UpdateRequest.newBuilder()
                .setInfo(Info.newBuilder().setDigest(digests.get(0)).putLabels("extra", "x"))
                .setUpdateMask(FieldMask.newBuilder().addPaths("labels.extra")).build()).getInfo();
        assertThat(updated.getLabelsMap()).containsEntry("n", "0").containsEntry("extra", "x");
        assertThatThrownBy(() -> content("lud").update(UpdateRequest.newBuilder()
                .setInfo(Info.newBuilder().setDigest(digests.get(0))).setUpdateMask(FieldMask.newBuilder().addPaths("size")).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));

        LinkedBlockingQueue<io.jcontainerd.api.services.events.v1.Envelope> events = new LinkedBlockingQueue<>();
        EventsGrpc.newStub(daemon.channel()).subscribe(SubscribeRequest.newBuilder().addFilters("topic==\"/content/delete\"").build(),
                new StreamObserver<>() {
                    @Override
                    public void onNext(io.jcontainerd.api.services.events.v1.Envelope env) {
                        events.add(env);
                    }

                    @Override
                    public void onError(Throwable t) {}

                    @Override
                    public void onCompleted() {}
                });
        // the subscription is set up asynchronously: delete one blob after another until an event shows up
        String seen = null;
        for (int i = 0; i < digests.size() && seen == null; i++) {
            content("lud").delete(DeleteContentRequest.newBuilder().setDigest(digests.get(i)).build());
            var env = events.poll(i == digests.size() - 1 ? 5000 : 500, TimeUnit.MILLISECONDS);
            if (env == null) continue;
            assertThat(env.getNamespace()).isEqualTo("lud");
            assertThat(env.getEvent().getTypeUrl()).isEqualTo("containerd.events.ContentDelete");
            seen = ContentDelete.parseFrom(env.getEvent().getValue()).getDigest();
            assertThat(seen).isEqualTo(digests.get(i));
        }
        assertThat(seen).isNotNull();
        assertThat(digests).contains(seen);
    }
}
