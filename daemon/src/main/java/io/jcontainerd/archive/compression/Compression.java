package io.jcontainerd.archive.compression;

import io.jcontainerd.errdefs.Errdefs;
import java.io.BufferedInputStream;
import java.io.FilterInputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.zip.GZIPOutputStream;

/** Layer stream compressions: detection by magic bytes, streaming decompression and compression. */
public enum Compression {
    UNCOMPRESSED(""),
    GZIP("gz"),
    ZSTD("zst");

    private static final int PEEK = 10;
    private static final int BUFFER = 32 * 1024;

    private final String extension;

    Compression(String extension) {
        this.extension = extension;
    }

    /** File name extension, as containerd's {@code Compression.Extension} ("" when uncompressed). */
    public String extension() {
        return extension;
    }

    /**
     * The compression whose magic starts {@code b}: gzip {@code 1f 8b 08}, a zstd frame {@code 28 b5 2f fd}
     * or a zstd skippable frame ({@code 0x184D2A5?} little endian); anything else is uncompressed.
     */
    public static Compression detect(byte[] b, int len) {
        if (len >= 3 && (b[0] & 0xff) == 0x1f && (b[1] & 0xff) == 0x8b && b[2] == 0x08) return GZIP;
        if (len >= 4 && (b[0] & 0xff) == 0x28 && (b[1] & 0xff) == 0xb5 && (b[2] & 0xff) == 0x2f && (b[3] & 0xff) == 0xfd) {
            return ZSTD;
        }
        if (len >= 8) {
            int magic = (b[0] & 0xff) | (b[1] & 0xff) << 8 | (b[2] & 0xff) << 16 | (b[3] & 0xff) << 24;
            if ((magic & 0xFFFFFFF0) == 0x184D2A50) return ZSTD;
        }
        return UNCOMPRESSED;
    }

    /**
     * Detects the compression of {@code in} from its first bytes and returns the decompressed stream
     * (an empty input is an empty uncompressed stream). Closing the result closes {@code in}.
     */
    public static Decompressed decompress(InputStream in) throws IOException {
        BufferedInputStream buffered = new BufferedInputStream(marking(in), BUFFER);
        buffered.mark(PEEK);
        byte[] head = new byte[PEEK];
        int n = 0;
        try {
            for (int r; n < PEEK && (r = buffered.read(head, n, PEEK - n)) > 0; ) n += r;
        } catch (SourceFailure e) {
            throw e.getCause();
        }
        buffered.reset();
        Compression c = detect(head, n);
        InputStream decompressor;
        try {
            decompressor = c.openDecompressor(buffered); // gzip reads its header here
        } catch (SourceFailure e) {
            throw e.getCause();
        } catch (IOException e) {
            throw Errdefs.invalidArgument("invalid %s layer stream: %s", c.name().toLowerCase(java.util.Locale.ROOT),
                    e.getMessage() == null ? "unexpected end of stream" : e.getMessage());
        }
        return new Decompressed(decompressor, c);
    }

    /** Decompresses {@code in}, which must be in this compression. */
    public InputStream openDecompressor(InputStream in) throws IOException {
        return switch (this) {
            case UNCOMPRESSED -> in;
            // commons' reader handles concatenated members regardless of available(), unlike GZIPInputStream
            case GZIP -> new org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream(in, true);
            case ZSTD -> Zstd.input(in);
        };
    }

    /**
     * A stream that compresses into {@code out}; closing it finishes the compressed stream but leaves
     * {@code out} open, so callers can keep hashing or committing it.
     */
    public OutputStream compress(OutputStream out) throws IOException {
        OutputStream shielded = new FilterOutputStream(out) {
            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                out.write(b, off, len);
            }

            @Override
            public void close() throws IOException {
                flush();
            }
        };
        return switch (this) {
            case UNCOMPRESSED -> shielded;
            case GZIP -> new GZIPOutputStream(shielded, BUFFER);
            case ZSTD -> Zstd.output(shielded);
        };
    }

    /** zstd-jni is only loaded (native library included) when a zstd stream is actually used. */
    private static final class Zstd {
        static InputStream input(InputStream in) throws IOException {
            return new com.github.luben.zstd.ZstdInputStream(in);
        }

        static OutputStream output(OutputStream out) throws IOException {
            return new com.github.luben.zstd.ZstdOutputStream(out, 3);
        }
    }

    /** A decompressed stream and the compression that was detected. */
    public static final class Decompressed extends FilterInputStream {
        private final Compression compression;

        Decompressed(InputStream in, Compression compression) {
            super(in);
            this.compression = compression;
        }

        public Compression compression() {
            return compression;
        }

        @Override
        public int read() throws IOException {
            try {
                return in.read();
            } catch (IOException e) {
                throw malformed(e);
            }
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            try {
                return in.read(b, off, len);
            } catch (IOException e) {
                throw malformed(e);
            }
        }

        /**
         * A compressed stream that ends early or does not decode is a malformed layer (InvalidArgument),
         * like a truncated tar; failures of the source itself pass through as they are.
         */
        private IOException malformed(IOException e) {
            if (e instanceof SourceFailure f) return f.getCause();
            if (compression == UNCOMPRESSED) return e;
            throw Errdefs.invalidArgument("invalid %s layer stream: %s", compression.name().toLowerCase(java.util.Locale.ROOT),
                    e.getMessage() == null ? "unexpected end of stream" : e.getMessage());
        }
    }

    /** Marks failures of the compressed source, so they are not mistaken for corrupt data. */
    private static final class SourceFailure extends IOException {
        SourceFailure(IOException cause) {
            super(cause.getMessage(), cause);
        }

        @Override
        public synchronized IOException getCause() {
            return (IOException) super.getCause();
        }
    }

    /** {@code in} with its read failures marked as {@link SourceFailure}. */
    private static InputStream marking(InputStream in) {
        return new FilterInputStream(in) {
            @Override
            public int read() throws IOException {
                try {
                    return in.read();
                } catch (IOException e) {
                    throw new SourceFailure(e);
                }
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                try {
                    return in.read(b, off, len);
                } catch (IOException e) {
                    throw new SourceFailure(e);
                }
            }
        };
    }
}
