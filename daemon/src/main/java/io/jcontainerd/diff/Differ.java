package io.jcontainerd.diff;

import io.jcontainerd.archive.ChangeWriter;
import io.jcontainerd.archive.compression.Compression;
import io.jcontainerd.archive.compression.MediaTypes;
import io.jcontainerd.content.Digest;
import io.jcontainerd.content.local.Sha256;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;

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
        // an uncompressed blob is the tar itself: hash it once
        boolean compressedBlob = compression != Compression.UNCOMPRESSED;
        Hashing blob = new Hashing(out, compressedBlob);
        Hashing tar;
        try (OutputStream compressed = compression.compress(blob)) {
            tar = new Hashing(compressed, true);
            ChangeWriter.writeDiff(lower, upper, tar);
        }
        blob.flush();
        Digest tarDigest = tar.digest();
        Digest blobDigest = compressedBlob ? blob.digest() : tarDigest;
        return new DiffResult(MediaTypes.ociLayer(compression), blobDigest, blob.count, tarDigest, tar.count);
    }

    /** Counts (and, when asked, hashes) what passes; never closes the stream below. */
    private static final class Hashing extends OutputStream {
        private final OutputStream out;
        private final Sha256 sha256;
        long count;

        Hashing(OutputStream out, boolean hash) {
            this.out = out;
            this.sha256 = hash ? Sha256.create() : null;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            if (sha256 != null) sha256.update(b, off, len);
            count += len;
        }

        @Override
        public void flush() throws IOException {
            out.flush();
        }

        Digest digest() {
            return sha256.current();
        }
    }
}
