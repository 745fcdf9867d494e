package io.jcontainerd.client;

import com.google.protobuf.ByteString;
import io.grpc.Channel;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.jcontainerd.api.services.content.v1.ContentGrpc;
import io.jcontainerd.api.services.content.v1.WriteAction;
import io.jcontainerd.api.services.content.v1.WriteContentRequest;
import io.jcontainerd.api.services.content.v1.WriteContentResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * One ingest over the Content service's Write stream. Writes are pipelined: up to {@value #WINDOW}
 * chunks are in flight before the writer waits for the daemon's acknowledgements. Not committing
 * (just {@link #close()}) keeps the partial data under the ref for a later resume.
 */
public final class ContentWriter implements AutoCloseable {
    static final int CHUNK = 1 << 20;
    static final int WINDOW = 8;
    private static final Object END = new Object();

    private final String ref;
    private final BlockingQueue<Object> responses = new LinkedBlockingQueue<>();
    private ClientCallStreamObserver<WriteContentRequest> requests;
    private long offset;
    private long total;
    private int inFlight;
    private boolean finished;

    private ContentWriter(String ref) {
        this.ref = ref;
    }

    static ContentWriter open(Channel channel, String ref, long total, String expected) {
        ContentWriter w = new ContentWriter(ref);
        ContentGrpc.newStub(channel).write(new ClientResponseObserver<WriteContentRequest, WriteContentResponse>() {
            @Override
            public void beforeStart(ClientCallStreamObserver<WriteContentRequest> r) {
                w.requests = r;
            }

            @Override
            public void onNext(WriteContentResponse r) {
                w.responses.add(r);
            }

            @Override
            public void onError(Throwable t) {
                w.responses.add(t);
            }

            @Override
            public void onCompleted() {
                w.responses.add(END);
            }
        });
        var stat = WriteContentRequest.newBuilder().setAction(WriteAction.STAT).setRef(ref).setTotal(Math.max(0, total));
        if (expected != null && !expected.isEmpty()) stat.setExpected(expected);
        w.send(stat.build());
        try {
            WriteContentResponse r = w.await();
            w.offset = r.getOffset();
            w.total = r.getTotal();
        } catch (RuntimeException e) {
            w.finished = true;
            throw e;
        }
        return w;
    }

    public String ref() {
        return ref;
    }

    /** Bytes already in the ingest: where the next write goes. */
    public long offset() {
        return offset;
    }

    public long total() {
        return total;
    }

    /** Drops what the ingest holds and starts again at offset 0. */
    public void truncate() {
        send(WriteContentRequest.newBuilder().setAction(WriteAction.WRITE).setRef(ref).setOffset(0).build());
        await();
        offset = 0;
    }

    public void write(byte[] b, int off, int len) {
        while (len > 0) {
            int n = Math.min(len, CHUNK);
            send(WriteContentRequest.newBuilder().setAction(WriteAction.WRITE).setRef(ref).setOffset(offset)
                    .setData(ByteString.copyFrom(b, off, n)).build());
            offset += n;
            off += n;
            len -= n;
            if (++inFlight >= WINDOW) drain(WINDOW / 2);
        }
    }

    /**
     * Commits the ingest as a blob of {@code size} bytes (0: unchecked) with digest {@code expected}
     * (null: whatever was written) and labels. Returns the digest. A mismatch fails with the
     * daemon's error and the ingest stays for inspection or abort.
     */
    public String commit(long size, String expected, Map<String, String> labels) {
        var b = WriteContentRequest.newBuilder().setAction(WriteAction.COMMIT).setRef(ref).setOffset(offset)
                .setTotal(size).putAllLabels(labels == null ? Map.of() : labels);
        if (expected != null && !expected.isEmpty()) b.setExpected(expected);
        send(b.build());
        drain(0);
        WriteContentResponse r = await();
        finished = true;
        requests.onCompleted();
        return r.getDigest();
    }

    /** An OutputStream feeding this writer (close does not commit). */
    public OutputStream outputStream() {
        return new OutputStream() {
            @Override
            public void write(int b) {
                ContentWriter.this.write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                try {
                    ContentWriter.this.write(b, off, len);
                } catch (ClientException e) {
                    throw new IOException(e.getMessage(), e);
                }
            }
        };
    }

    private void send(WriteContentRequest r) {
        if (finished) throw ClientException.failedPrecondition("writer for %s is closed", ref);
        requests.onNext(r);
    }

    private void drain(int keep) {
        while (inFlight > keep) {
            await();
            inFlight--;
        }
    }

    private WriteContentResponse await() {
        Object o;
        try {
            o = responses.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            abandon();
            throw new ClientException(io.grpc.Status.Code.CANCELLED, "interrupted writing " + ref);
        }
        if (o instanceof WriteContentResponse r) return r;
        finished = true;
        if (o instanceof Throwable t) throw ClientException.from(t);
        throw ClientException.unknown("write stream for " + ref + " ended early", null);
    }

    private void abandon() {
        finished = true;
        requests.cancel("abandoned", null);
    }

    /** Ends the stream without committing; what was written stays under the ref. */
    @Override
    public void close() {
        if (finished) return;
        finished = true;
        try {
            drain(0);
        } catch (ClientException ignored) {
            // the stream already failed: nothing more to release
            return;
        }
        requests.onCompleted();
    }
}
