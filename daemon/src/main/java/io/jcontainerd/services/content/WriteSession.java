package io.jcontainerd.services.content;

import io.grpc.stub.StreamObserver;
import io.jcontainerd.api.services.content.v1.WriteAction;
import io.jcontainerd.api.services.content.v1.WriteContentRequest;
import io.jcontainerd.api.services.content.v1.WriteContentResponse;
import io.jcontainerd.content.ContentStore;
import io.jcontainerd.content.Digest;
import io.jcontainerd.content.Status;
import io.jcontainerd.content.Writer;
import io.jcontainerd.errdefs.ContainerdException;
import io.jcontainerd.errdefs.Errdefs;
import io.jcontainerd.errdefs.ErrorKind;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;

/**
 * One Write stream: the first message names the ref and opens (locks) its writer; every message is
 * answered; COMMIT ends the stream. Mirrors containerd's contentserver Write, including that the
 * response message is reused across steps (fields set by an earlier STAT stay set) and that the last
 * response is sent once more when the stream ends without error.
 */
final class WriteSession implements StreamObserver<WriteContentRequest> {
    private static final Logger LOG = System.getLogger(WriteSession.class.getName());

    private final ContentStore store;
    private final StreamObserver<WriteContentResponse> out;
    private final WriteContentResponse.Builder msg = WriteContentResponse.newBuilder();
    private Writer wr;
    private String ref;
    private long total;
    private String expected = "";
    private boolean done;

    WriteSession(ContentStore store, StreamObserver<WriteContentResponse> out) {
        this.store = store;
        this.out = out;
    }

    @Override
    public void onNext(WriteContentRequest req) {
        if (done) return;
        try {
            if (wr == null) open(req);
            if (step(req)) finish();
        } catch (IOException | RuntimeException e) {
            fail(e);
        }
    }

    private void open(WriteContentRequest req) throws IOException {
        ref = req.getRef();
        if (ref.isEmpty()) {
            throw io.grpc.Status.INVALID_ARGUMENT.withDescription("first message must have a reference").asRuntimeException();
        }
        total = req.getTotal();
        expected = req.getExpected();
        // locks the ref for this stream; a second writer on it is Unavailable
        wr = store.writer(ref, total, expected.isEmpty() ? null : Digest.parse(expected));
    }

    /** Handles one message; true once committed. */
    private boolean step(WriteContentRequest req) throws IOException {
        msg.setAction(req.getAction());
        Status ws = wr.status();
        msg.setOffset(ws.offset());
        if (!req.getExpected().isEmpty()) {
            expected = req.getExpected();
            if (exists(expected)) {
                ContentService.closeQuietly(wr);
                try {
                    store.abort(ref);
                } catch (IOException | RuntimeException e) {
                    LOG.log(Level.DEBUG, "abort of " + ref + " failed: " + e);
                }
                throw Errdefs.alreadyExists("blob with expected digest %s exists", expected);
            }
        }
        if (req.getTotal() > 0) total = req.getTotal();
        switch (req.getAction()) {
            case STAT -> {
                msg.setDigest(digestOf(wr));
                msg.setStartedAt(ContentService.ts(ws.startedAt()));
                msg.setUpdatedAt(ContentService.ts(ws.updatedAt()));
                msg.setTotal(total);
            }
            case WRITE, COMMIT -> {
                if (req.getOffset() > 0 && req.getOffset() != ws.offset()) {
                    throw io.grpc.Status.OUT_OF_RANGE
                            .withDescription("write @" + req.getOffset() + " must occur at current offset " + ws.offset())
                            .asRuntimeException();
                }
                if (req.getOffset() == 0 && ws.offset() > 0) {
                    // offset 0 on a started ingest restarts it
                    try {
                        wr.truncate(0);
                    } catch (IOException | RuntimeException e) {
                        throw new IllegalStateException("truncate failed: " + e.getMessage(), e);
                    }
                    msg.setOffset(0);
                }
                if (!req.getData().isEmpty()) {
                    wr.write(req.getData().asReadOnlyByteBuffer());
                    msg.setOffset(msg.getOffset() + req.getData().size());
                }
                if (req.getAction() == WriteAction.COMMIT) {
                    wr.commit(total, expected.isEmpty() ? null : Digest.parse(expected), req.getLabelsMap());
                }
                msg.setDigest(digestOf(wr));
            }
            default -> { }
        }
        out.onNext(msg.build());
        return req.getAction() == WriteAction.COMMIT;
    }

    private boolean exists(String digest) throws IOException {
        Digest d;
        try {
            d = Digest.parse(digest);
        } catch (ContainerdException e) {
            return false;
        }
        try {
            store.info(d);
            return true;
        } catch (ContainerdException e) {
            if (e.kind() == ErrorKind.NOT_FOUND) return false;
            throw e;
        }
    }

    private static String digestOf(Writer w) {
        Digest d = w.digest();
        return d == null ? "" : d.toString();
    }

    private void finish() {
        done = true;
        ContentService.closeQuietly(wr);
        out.onNext(msg.build());
        out.onCompleted();
    }

    private void fail(Throwable e) {
        done = true;
        ContentService.closeQuietly(wr);
        out.onError(Errdefs.toGrpc(e));
    }

    @Override
    public void onError(Throwable t) {
        // the client went away: release the ref, keep the partial data for a resume
        done = true;
        ContentService.closeQuietly(wr);
    }

    @Override
    public void onCompleted() {
        if (done) return;
        if (wr == null) {
            fail(io.grpc.Status.UNKNOWN.withDescription("EOF").asRuntimeException());
            return;
        }
        finish();
    }
}
