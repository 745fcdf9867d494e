package io.jcontainerd.archive;

import io.jcontainerd.content.Digest;
import io.jcontainerd.content.local.Sha256;
import java.io.IOException;
import java.io.InputStream;

/**
 * Hashes (sha256) and counts every byte that passes, skipped bytes included, so the digest always covers
 * the whole stream read so far. The hash is libcrypto's when it loads: under C1 the JDK's took a third of
 * an apply's CPU. Failures of the underlying stream are marked as {@link SourceException} so that callers
 * can tell a broken source from a malformed archive.
 */
public final class DigestingInputStream extends InputStream {
    private final InputStream in;
    private final Sha256 sha256;
    private long count;
    private final byte[] one = new byte[1];

    public DigestingInputStream(InputStream in) {
        this.in = in;
        this.sha256 = Sha256.create();
    }

    @Override
    public int read() throws IOException {
        int n = read(one, 0, 1);
        return n <= 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int n;
        try {
            n = in.read(b, off, len);
        } catch (IOException e) {
            throw new SourceException(e);
        }
        if (n > 0) {
            sha256.update(b, off, n);
            count += n;
        }
        return n;
    }

    @Override
    public long skip(long n) throws IOException {
        byte[] buf = new byte[(int) Math.min(n, 32 * 1024)];
        long skipped = 0;
        while (skipped < n) {
            int r = read(buf, 0, (int) Math.min(buf.length, n - skipped));
            if (r < 0) break;
            skipped += r;
        }
        return skipped;
    }

    /** Reads to the end so that the digest covers trailing data too; returns how many bytes that was. */
    public long drain() throws IOException {
        byte[] buf = new byte[32 * 1024];
        long total = 0;
        for (int r; (r = read(buf, 0, buf.length)) >= 0; ) total += r;
        return total;
    }

    @Override
    public int available() throws IOException {
        return in.available();
    }

    @Override
    public void close() throws IOException {
        in.close();
    }

    public long count() {
        return count;
    }

    /** The digest of everything read so far; call once, at the end. */
    public Digest digest() {
        return sha256.current();
    }

    /** An I/O failure of the stream being read, as opposed to bad archive content. */
    public static final class SourceException extends IOException {
        SourceException(IOException cause) {
            super(cause.getMessage(), cause);
        }

        @Override
        public synchronized IOException getCause() {
            return (IOException) super.getCause();
        }
    }
}
