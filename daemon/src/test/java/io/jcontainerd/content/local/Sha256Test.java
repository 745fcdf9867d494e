package io.jcontainerd.content.local;

import static org.assertj.core.api.Assertions.assertThat;

import io.jcontainerd.content.Digest;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.Random;
import org.junit.jupiter.api.Test;

class Sha256Test {

    static Digest reference(byte[] data, int len) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        md.update(data, 0, len);
        return Digest.sha256(md.digest());
    }

    @Test
    void libcryptoIsUsedOnThisHost() {
        // the test hosts have OpenSSL 3; without it the daemon falls back to the JDK's digest
        assertThat(Sha256.isNative()).isTrue();
        assertThat(Sha256.create()).isInstanceOf(Sha256.Native.class);
    }

    @Test
    void nativeAndJdkAgreeWithMessageDigestWhateverTheBufferKind() throws Exception {
        Random rnd = new Random(7);
        byte[] data = new byte[3 << 20];
        rnd.nextBytes(data);
        for (Sha256 h : new Sha256[] {new Sha256.Native(), new Sha256.Jdk()}) {
            assertThat(h.current()).isEqualTo(reference(data, 0));
            int off = 0, step = 0;
            while (off < data.length) {
                int n = Math.min(data.length - off, 1 + rnd.nextInt(300_000));
                switch (step++ % 4) {
                    case 0 -> h.update(data, off, n);
                    case 1 -> h.update(ByteBuffer.wrap(data, off, n).asReadOnlyBuffer());
                    case 2 -> {
                        ByteBuffer direct = ByteBuffer.allocateDirect(n).put(data, off, n).flip();
                        h.update(direct);
                        assertThat(direct.hasRemaining()).isFalse();
                    }
                    default -> {
                        ByteBuffer slice = ByteBuffer.wrap(data).position(off).limit(off + n);
                        h.update(slice);
                        assertThat(slice.position()).isEqualTo(off + n);
                    }
                }
                off += n;
                // current() leaves the running state alone
                assertThat(h.current()).as(h.getClass().getSimpleName() + " at " + off).isEqualTo(reference(data, off));
            }
            h.reset();
            assertThat(h.current()).isEqualTo(reference(data, 0));
            h.update(data, 0, 1000);
            assertThat(h.current()).isEqualTo(reference(data, 1000));
        }
    }
}
