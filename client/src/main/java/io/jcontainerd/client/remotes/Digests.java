package io.jcontainerd.client.remotes;

import io.jcontainerd.client.ClientException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Digest helpers: algorithms by digest prefix, one-shot digests, and a verifying stream. */
public final class Digests {
    private Digests() {}

    public static MessageDigest hasher(String digest) {
        String alg = digest.substring(0, Math.max(0, digest.indexOf(':')));
        try {
            return switch (alg) {
                case "sha256" -> MessageDigest.getInstance("SHA-256");
                case "sha384" -> MessageDigest.getInstance("SHA-384");
                case "sha512" -> MessageDigest.getInstance("SHA-512");
                default -> throw ClientException.invalidArgument("unsupported digest algorithm %s", digest);
            };
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public static String sha256(byte[] data) {
        return format("sha256", hasher("sha256:").digest(data));
    }

    static String format(String alg, byte[] sum) {
        return alg + ":" + HexFormat.of().formatHex(sum);
    }

    /** {@code alg:hex} of what {@code md} has seen, with the algorithm of {@code like}. */
    public static String of(MessageDigest md, String like) {
        return format(like.substring(0, like.indexOf(':')), md.digest());
    }

    /** Verifies {@code data} against {@code digest} and {@code size} (negative: unchecked). */
    public static void verify(byte[] data, String digest, long size) {
        if (size >= 0 && data.length != size) {
            throw ClientException.failedPrecondition("size mismatch for %s: expected %d bytes, got %d", digest, size, data.length);
        }
        String got = of(updated(hasher(digest), data), digest);
        if (!got.equals(digest)) throw ClientException.failedPrecondition("digest mismatch: expected %s, got %s", digest, got);
    }

    private static MessageDigest updated(MessageDigest md, byte[] data) {
        md.update(data);
        return md;
    }

    /**
     * A stream that hashes and counts what passes; at the end it fails with an IOException (cause a
     * FailedPrecondition ClientException) when the size or digest is not the expected one, and it
     * refuses to read past the expected size.
     */
    public static final class VerifyingInputStream extends FilterInputStream {
        private final String digest;
        private final long size;
        private final MessageDigest md;
        private long count;
        private boolean verified;

        public VerifyingInputStream(InputStream in, String digest, long size) {
            super(in);
            this.digest = digest;
            this.size = size;
            this.md = hasher(digest);
        }

        @Override
        public int read() throws IOException {
            byte[] b = new byte[1];
            int n = read(b, 0, 1);
            return n < 0 ? -1 : b[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n < 0) {
                check();
                return -1;
            }
            md.update(b, off, n);
            count += n;
            if (size >= 0 && count > size) {
                throw fail(ClientException.failedPrecondition("size mismatch for %s: more than %d bytes", digest, size));
            }
            return n;
        }

        private void check() throws IOException {
            if (verified) return;
            verified = true;
            if (size >= 0 && count != size) {
                throw fail(ClientException.failedPrecondition("size mismatch for %s: expected %d bytes, got %d (truncated)", digest, size, count));
            }
            String got = of(md, digest);
            if (!got.equals(digest)) throw fail(ClientException.failedPrecondition("digest mismatch: expected %s, got %s", digest, got));
        }

        private static IOException fail(ClientException e) {
            return new IOException(e.getMessage(), e);
        }
    }
}
