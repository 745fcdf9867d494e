package io.jcontainerd.it;

import com.google.protobuf.ByteString;
import io.grpc.Channel;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.jcontainerd.api.services.content.v1.ContentGrpc;
import io.jcontainerd.api.services.content.v1.Info;
import io.jcontainerd.api.services.content.v1.InfoRequest;
import io.jcontainerd.api.services.content.v1.ReadContentRequest;
import io.jcontainerd.api.services.content.v1.ReadContentResponse;
import io.jcontainerd.api.services.content.v1.WriteAction;
import io.jcontainerd.api.services.content.v1.WriteContentRequest;
import io.jcontainerd.api.services.content.v1.WriteContentResponse;
import io.jcontainerd.testing.DaemonProcess;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** The Content service as a test client sees it: whole-blob writes and reads over gRPC, in a namespace and lease. */
final class ContentClient {
    private static final int CHUNK = 1 << 20;

    private ContentClient() {}

    static String sha256(byte[] data) {
        try {
            return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code stub} sending the {@code containerd-lease} header (unchanged when lease is null). */
    static <S extends io.grpc.stub.AbstractStub<S>> S withLease(S stub, String lease) {
        if (lease == null) return stub;
        Metadata md = new Metadata();
        md.put(Metadata.Key.of("containerd-lease", Metadata.ASCII_STRING_MARSHALLER), lease);
        return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md));
    }

    /**
     * Writes {@code data} under {@code ref} in one Write stream (WRITE chunks, then COMMIT with the
     * expected size, digest and labels) and returns the digest once the daemon has answered the COMMIT:
     * from then on the blob is acknowledged. Failures surface as {@link StatusRuntimeException}.
     */
    static String commit(Channel ch, String ns, String lease, String ref, byte[] data, Map<String, String> labels)
            throws InterruptedException {
        String dgst = sha256(data);
        CompletableFuture<WriteContentResponse> committed = new CompletableFuture<>();
        var stub = withLease(DaemonProcess.inNamespace(ContentGrpc.newStub(ch), ns), lease)
                .withDeadlineAfter(60, TimeUnit.SECONDS);
        StreamObserver<WriteContentRequest> req = stub.write(new StreamObserver<>() {
            @Override
            public void onNext(WriteContentResponse r) {
                if (r.getAction() == WriteAction.COMMIT) committed.complete(r);
            }

            @Override
            public void onError(Throwable t) {
                committed.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
                committed.completeExceptionally(new IllegalStateException("stream ended without a commit"));
            }
        });
        int off = 0;
        do {
            int n = Math.min(CHUNK, data.length - off);
            boolean last = off + n == data.length;
            WriteContentRequest.Builder b = WriteContentRequest.newBuilder()
                    .setAction(last ? WriteAction.COMMIT : WriteAction.WRITE)
                    .setOffset(off).setData(ByteString.copyFrom(data, off, n));
            if (off == 0) b.setRef(ref).setTotal(data.length);
            if (last) b.setTotal(data.length).setExpected(dgst).putAllLabels(labels);
            req.onNext(b.build());
            off += n;
        } while (off < data.length);
        req.onCompleted();
        try {
            WriteContentResponse r = committed.get(60, TimeUnit.SECONDS);
            if (!r.getDigest().equals(dgst)) throw new AssertionError("committed " + r.getDigest() + ", wrote " + dgst);
            return dgst;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof StatusRuntimeException s) throw s;
            throw new IllegalStateException(e.getCause());
        } catch (TimeoutException e) {
            throw new AssertionError("no answer to COMMIT of " + ref, e);
        }
    }

    static Info info(Channel ch, String ns, String dgst) {
        return DaemonProcess.inNamespace(ContentGrpc.newBlockingStub(ch), ns).withDeadlineAfter(30, TimeUnit.SECONDS)
                .info(InfoRequest.newBuilder().setDigest(dgst).build()).getInfo();
    }

    /** The whole blob through the Read stream. */
    static byte[] read(Channel ch, String ns, String dgst) {
        var out = new java.io.ByteArrayOutputStream();
        Iterator<ReadContentResponse> it = DaemonProcess.inNamespace(ContentGrpc.newBlockingStub(ch), ns)
                .withDeadlineAfter(60, TimeUnit.SECONDS).read(ReadContentRequest.newBuilder().setDigest(dgst).build());
        while (it.hasNext()) {
            ReadContentResponse r = it.next();
            if (r.getOffset() != out.size()) throw new AssertionError("chunk at " + r.getOffset() + ", expected " + out.size());
            out.writeBytes(r.getData().toByteArray());
        }
        return out.toByteArray();
    }

    static byte[] bytes(int size, java.util.Random rnd) {
        byte[] b = new byte[size];
        rnd.nextBytes(b);
        return b;
    }
}
