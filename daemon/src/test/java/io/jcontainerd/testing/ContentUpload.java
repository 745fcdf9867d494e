package io.jcontainerd.testing;

import com.google.protobuf.ByteString;
import io.grpc.Channel;
import io.grpc.stub.StreamObserver;
import io.jcontainerd.api.services.content.v1.ContentGrpc;
import io.jcontainerd.api.services.content.v1.WriteAction;
import io.jcontainerd.api.services.content.v1.WriteContentRequest;
import io.jcontainerd.api.services.content.v1.WriteContentResponse;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Uploads a blob through the Content service's Write stream (under a lease when given). */
public final class ContentUpload {
    private ContentUpload() {}

    public static String sha256(byte[] data) {
        try {
            return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Writes and commits {@code data}; returns its digest. A blob that already exists counts as written. */
    public static String upload(Channel channel, String namespace, String lease, byte[] data) throws Exception {
        String digest = sha256(data);
        CompletableFuture<Void> done = new CompletableFuture<>();
        StreamObserver<WriteContentRequest> req = DaemonProcess.inNamespace(ContentGrpc.newStub(channel), namespace, lease)
                .write(new StreamObserver<WriteContentResponse>() {
                    @Override
                    public void onNext(WriteContentResponse r) {}

                    @Override
                    public void onError(Throwable t) {
                        if (t instanceof io.grpc.StatusRuntimeException e && e.getStatus().getCode() == io.grpc.Status.Code.ALREADY_EXISTS) {
                            done.complete(null);
                        } else {
                            done.completeExceptionally(t);
                        }
                    }

                    @Override
                    public void onCompleted() {
                        done.complete(null);
                    }
                });
        String ref = "upload-" + digest.substring(7, 23);
        int chunk = 1 << 20;
        for (int off = 0; off < data.length || off == 0; off += chunk) {
            int n = Math.min(chunk, data.length - off);
            boolean last = off + n >= data.length;
            WriteContentRequest.Builder b = WriteContentRequest.newBuilder().setRef(ref).setOffset(off)
                    .setData(ByteString.copyFrom(data, off, n)).setTotal(data.length)
                    .setAction(last ? WriteAction.COMMIT : WriteAction.WRITE);
            if (last) b.setExpected(digest);
            req.onNext(b.build());
            if (last) break;
        }
        req.onCompleted();
        done.get(60, TimeUnit.SECONDS);
        return digest;
    }
}
