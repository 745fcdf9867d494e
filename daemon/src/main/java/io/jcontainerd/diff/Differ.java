package io.jcontainerd.diff;

import io.jcontainerd.archive.ChangeWriter;
import io.jcontainerd.archive.compression.Compression;
import io.jcontainerd.archive.compression.MediaTypes;
import io.jcontainerd.content.Digest;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The walking differ's core (containerd's {@code diff/walking}): walks two mounted trees and writes the OCI
 * layer of their changes, compressed, hashing the compressed and the uncompressed stream on the fly.
 */
public final class Differ {
    private Differ() {}

    /**
     * Writes the layer that turns {@code lower} into {@code upper} to {@code out} (left open).
     *
     * @param mediaType the layer media type to produce: OCI tar, tar+gzip or tar+zstd; null or empty means tar+gzip.
     *                  Anything else is NotImplemented.
     */
    public static DiffResult diff(Path lower, Path upper, OutputStream out, String mediaType) throws IOException {
        Compression compression = MediaTypes.forDiff(mediaType);
        Hashing blob = new Hashing(out);
        Hashing tar;
        try (OutputStream compressed = compression.compress(blob)) {
            tar = new Hashing(compressed);
            ChangeWriter.writeDiff(lower, upper, tar);
        }
        blob.flush();
        Digest tarDigest = tar.digest();
        Digest blobDigest = compression == Compression.UNCOMPRESSED ? tarDigest : blob.digest();
        return new DiffResult(MediaTypes.ociLayer(compression), blobDigest, blob.count, tarDigest, tar.count);
    }

    /** Counts and hashes what passes; never closes the stream below. */
    private static final class Hashing extends OutputStream {
        private final OutputStream out;
        private final MessageDigest sha256;
        long count;

        Hashing(OutputStream out) {
            this.out = out;
            try {
                this.sha256 = MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            sha256.update(b, off, len);
            count += len;
        }

        @Override
        public void flush() throws IOException {
            out.flush();
        }

        Digest digest() {
            return Digest.sha256(sha256.digest());
        }
    }
}
