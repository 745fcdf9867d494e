package io.jcontainerd.archive.compression;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jcontainerd.errdefs.ContainerdException;
import io.jcontainerd.errdefs.ErrorKind;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;

class CompressionTest {
    static byte[] compress(Compression c, byte[] data) throws IOException {
        var out = new ByteArrayOutputStream();
        try (OutputStream z = c.compress(out)) {
            z.write(data);
        }
        return out.toByteArray();
    }

    /** A source that, like a pipe or a socket, never claims bytes are available. */
    static InputStream pipeLike(byte[] b) {
        return new FilterInputStream(new ByteArrayInputStream(b)) {
            @Override
            public int available() {
                return 0;
            }

            @Override
            public int read(byte[] buf, int off, int len) throws IOException {
                return super.read(buf, off, Math.min(len, 7)); // short reads
            }
        };
    }

    @Test
    void detectsByMagic() {
        assertThat(Compression.detect(new byte[] {0x1f, (byte) 0x8b, 0x08, 0}, 4)).isEqualTo(Compression.GZIP);
        assertThat(Compression.detect(new byte[] {0x1f, (byte) 0x8b, 0x07}, 3)).isEqualTo(Compression.UNCOMPRESSED);
        assertThat(Compression.detect(new byte[] {0x28, (byte) 0xb5, 0x2f, (byte) 0xfd}, 4)).isEqualTo(Compression.ZSTD);
        assertThat(Compression.detect(new byte[] {0x5a, 0x2a, 0x4d, 0x18, 0, 0, 0, 0}, 8)).isEqualTo(Compression.ZSTD);
        assertThat(Compression.detect(new byte[] {0x5a, 0x2a, 0x4d, 0x18}, 4)).isEqualTo(Compression.UNCOMPRESSED);
        assertThat(Compression.detect("ustar".getBytes(), 5)).isEqualTo(Compression.UNCOMPRESSED);
        assertThat(Compression.detect(new byte[0], 0)).isEqualTo(Compression.UNCOMPRESSED);
    }

    @Test
    void roundTripsEveryCompression() throws IOException {
        byte[] data = "layer data ".repeat(10_000).getBytes(StandardCharsets.UTF_8);
        for (Compression c : Compression.values()) {
            byte[] z = compress(c, data);
            try (Compression.Decompressed d = Compression.decompress(pipeLike(z))) {
                assertThat(d.compression()).isEqualTo(c);
                assertThat(d.readAllBytes()).isEqualTo(data);
            }
        }
        assertThat(Compression.decompress(new ByteArrayInputStream(new byte[0])).readAllBytes()).isEmpty();
    }

    @Test
    void readsEveryMemberOfConcatenatedGzip() throws IOException {
        var out = new ByteArrayOutputStream();
        for (String part : new String[] {"first ", "second ", "third"}) {
            try (var gz = new GZIPOutputStream(out) {
                @Override
                public void close() throws IOException {
                    finish(); // keep `out` open for the next member
                }
            }) {
                gz.write(part.getBytes());
            }
        }
        try (InputStream in = Compression.decompress(pipeLike(out.toByteArray()))) {
            assertThat(new String(in.readAllBytes())).isEqualTo("first second third");
        }
    }

    @Test
    void readsConcatenatedZstdFramesAndSkippableFrames() throws IOException {
        var out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 9, 9, 9}); // skippable frame first
        out.writeBytes(compress(Compression.ZSTD, "one ".getBytes()));
        out.writeBytes(compress(Compression.ZSTD, "two".getBytes()));
        try (Compression.Decompressed in = Compression.decompress(pipeLike(out.toByteArray()))) {
            assertThat(in.compression()).isEqualTo(Compression.ZSTD);
            assertThat(new String(in.readAllBytes())).isEqualTo("one two");
        }
    }

    /** Corrupt or truncated compressed data is a malformed layer: InvalidArgument, like a truncated tar. */
    @Test
    void corruptStreamsAreInvalidArgument() throws IOException {
        byte[] z = compress(Compression.GZIP, "x".repeat(1000).getBytes());
        z[z.length - 5] ^= 0x55; // trailer crc/size
        assertInvalid(z);
        byte[] noise = new byte[100_000];
        new java.util.Random(3).nextBytes(noise);
        byte[] gz = compress(Compression.GZIP, noise);
        assertInvalid(java.util.Arrays.copyOf(gz, gz.length / 2));
        assertInvalid(java.util.Arrays.copyOf(gz, 5)); // inside the gzip header
        byte[] zs = compress(Compression.ZSTD, "y".repeat(100_000).getBytes());
        assertInvalid(java.util.Arrays.copyOf(zs, zs.length / 2));
    }

    static void assertInvalid(byte[] compressed) {
        assertThatThrownBy(() -> Compression.decompress(new ByteArrayInputStream(compressed)).readAllBytes())
                .isInstanceOfSatisfying(ContainerdException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT));
    }

    /** A failing source is not corrupt data: its own exception comes out, for gzip and zstd alike. */
    @Test
    void sourceFailuresPassThrough() throws IOException {
        for (Compression c : new Compression[] {Compression.GZIP, Compression.ZSTD}) {
            byte[] data = compress(c, new byte[200_000]);
            IOException broken = new IOException("disk on fire");
            InputStream failing = new FilterInputStream(new ByteArrayInputStream(data)) {
                int served;

                @Override
                public int read(byte[] buf, int off, int len) throws IOException {
                    if (served > 20) throw broken;
                    int n = super.read(buf, off, Math.min(len, 10));
                    served += Math.max(n, 0);
                    return n;
                }
            };
            assertThatThrownBy(() -> Compression.decompress(failing).readAllBytes()).isSameAs(broken);
        }
    }

    @Test
    void mediaTypesDeclareCompressionAsContainerdReadsThem() {
        assertThat(MediaTypes.declared(MediaTypes.OCI_LAYER)).isEqualTo(MediaTypes.Declared.NONE);
        assertThat(MediaTypes.declared(MediaTypes.OCI_LAYER_GZIP)).isEqualTo(MediaTypes.Declared.GZIP);
        assertThat(MediaTypes.declared(MediaTypes.OCI_LAYER_ZSTD)).isEqualTo(MediaTypes.Declared.ZSTD);
        assertThat(MediaTypes.declared(MediaTypes.OCI_LAYER_NONDISTRIBUTABLE_GZIP)).isEqualTo(MediaTypes.Declared.GZIP);
        assertThat(MediaTypes.declared(MediaTypes.OCI_LAYER_NONDISTRIBUTABLE_ZSTD)).isEqualTo(MediaTypes.Declared.ZSTD);
        assertThat(MediaTypes.declared(MediaTypes.DOCKER_LAYER)).isEqualTo(MediaTypes.Declared.UNKNOWN);
        assertThat(MediaTypes.declared(MediaTypes.DOCKER_LAYER_FOREIGN)).isEqualTo(MediaTypes.Declared.UNKNOWN);
        assertThat(MediaTypes.declared(MediaTypes.DOCKER_LAYER_GZIP)).isEqualTo(MediaTypes.Declared.GZIP);
        assertThat(MediaTypes.declared(MediaTypes.DOCKER_LAYER_FOREIGN_GZIP)).isEqualTo(MediaTypes.Declared.GZIP);
        // extensions are sorted and the last one decides: "+gzip+encrypted" is gzip, "+encrypted" alone is not
        assertThat(MediaTypes.declared(MediaTypes.OCI_LAYER_GZIP + "+encrypted")).isEqualTo(MediaTypes.Declared.GZIP);
        assertThat(MediaTypes.declared(MediaTypes.OCI_LAYER + "+encrypted")).isEqualTo(MediaTypes.Declared.NONE);
        assertThat(MediaTypes.declared(MediaTypes.DOCKER_LAYER_GZIP + "+encrypted")).isEqualTo(MediaTypes.Declared.NONE);
        assertThatThrownBy(() -> MediaTypes.declared("application/vnd.oci.image.config.v1+json"))
                .isInstanceOfSatisfying(ContainerdException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.NOT_IMPLEMENTED));
        assertThat(MediaTypes.isLayer(MediaTypes.DOCKER_LAYER_FOREIGN_GZIP)).isTrue();
        assertThat(MediaTypes.isNonDistributable(MediaTypes.OCI_LAYER_NONDISTRIBUTABLE)).isTrue();
        assertThat(MediaTypes.forDiff("")).isEqualTo(Compression.GZIP);
    }

    @Test
    void layersDeclaredCompressedAreDetectedFromTheirBytes() throws IOException {
        byte[] data = "tar bytes".getBytes();
        // a Docker "uncompressed" layer that is gzip anyway, and a +gzip layer that is zstd
        assertThat(MediaTypes.openLayer(new ByteArrayInputStream(compress(Compression.GZIP, data)), MediaTypes.DOCKER_LAYER).readAllBytes())
                .isEqualTo(data);
        assertThat(MediaTypes.openLayer(new ByteArrayInputStream(compress(Compression.ZSTD, data)), MediaTypes.OCI_LAYER_GZIP).readAllBytes())
                .isEqualTo(data);
        // a plain OCI tar is read as it is
        byte[] gz = compress(Compression.GZIP, data);
        assertThat(MediaTypes.openLayer(new ByteArrayInputStream(gz), MediaTypes.OCI_LAYER).readAllBytes()).isEqualTo(gz);
    }
}
