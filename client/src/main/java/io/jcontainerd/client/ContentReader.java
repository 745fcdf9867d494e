package io.jcontainerd.client;

import io.grpc.Channel;
import io.grpc.Context;
import io.grpc.StatusRuntimeException;
import io.jcontainerd.api.services.content.v1.ContentGrpc;
import io.jcontainerd.api.services.content.v1.ReadContentRequest;
import io.jcontainerd.api.services.content.v1.ReadContentResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Iterator;

/** Random-access reads of one committed blob over the Content service's Read stream. */
public final class ContentReader implements AutoCloseable {
    private final ContentGrpc.ContentBlockingStub stub;
    private final ContentClient.Info info;

    ContentReader(Channel channel, ContentClient.Info info) {
        this.stub = ContentGrpc.newBlockingStub(channel);
        this.info = info;
    }

    public String digest() {
        return info.digest();
    }

    public long size() {
        return info.size();
    }

    /** Reads up to {@code len} bytes at {@code offset}; -1 at or past the end. */
    public int readAt(long offset, byte[] b, int off, int len) {
        if (offset >= info.size()) return -1;
        if (len == 0) return 0;
        int want = (int) Math.min(len, info.size() - offset);
        try (InputStream in = stream(offset, want)) {
            int n = in.readNBytes(b, off, want);
            return n == 0 ? -1 : n;
        } catch (IOException e) {
            throw ClientException.unknown("reading " + info.digest() + ": " + e.getMessage(), e);
        }
    }

    public byte[] readAll() {
        if (info.size() > Integer.MAX_VALUE - 16) throw ClientException.invalidArgument("%s is too large to read into memory", info.digest());
        try (InputStream in = stream(0, 0)) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw ClientException.unknown("reading " + info.digest() + ": " + e.getMessage(), e);
        }
    }

    /** A stream of {@code size} bytes from {@code offset} (0: to the end); closing it early cancels the read. */
    public InputStream stream(long offset, long size) {
        Context.CancellableContext ctx = Context.current().withCancellation();
        Iterator<ReadContentResponse> it = ContentClient.cancellable(ctx, () -> stub.read(ReadContentRequest.newBuilder()
                .setDigest(info.digest()).setOffset(offset).setSize(size).build()));
        return new InputStream() {
            private byte[] chunk = new byte[0];
            private int pos;
            private boolean closed;

            private boolean fill() throws IOException {
                while (pos >= chunk.length) {
                    try {
                        Context prev = ctx.attach();
                        try {
                            if (!it.hasNext()) return false;
                            chunk = it.next().getData().toByteArray();
                        } finally {
                            ctx.detach(prev);
                        }
                    } catch (StatusRuntimeException e) {
                        throw new IOException(ClientException.from(e).getMessage(), ClientException.from(e));
                    }
                    pos = 0;
                }
                return true;
            }

            @Override
            public int read() throws IOException {
                if (!fill()) return -1;
                return chunk[pos++] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (len == 0) return 0;
                if (!fill()) return -1;
                int n = Math.min(len, chunk.length - pos);
                System.arraycopy(chunk, pos, b, off, n);
                pos += n;
                return n;
            }

            @Override
            public void close() {
                if (closed) return;
                closed = true;
                ctx.cancel(null);
            }
        };
    }

    @Override
    public void close() {
        // nothing held between reads
    }
}
