package io.jcontainerd.content;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;

/** java.io views of content readers and writers, for code that streams (archives, compressors). */
public final class ContentStreams {
    private ContentStreams() {}

    /** A sequential stream over {@code r} from offset 0; closing it does not close {@code r}. */
    public static InputStream inputStream(ReaderAt r) {
        return new InputStream() {
            private long offset;

            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (len == 0) return 0;
                int n = r.readAt(ByteBuffer.wrap(b, off, len), offset);
                if (n > 0) offset += n;
                return n;
            }

            @Override
            public long skip(long n) {
                long k = Math.max(0, Math.min(n, r.size() - offset));
                offset += k;
                return k;
            }
        };
    }

    /** An output stream appending to {@code w}; closing it does not close or commit {@code w}. */
    public static OutputStream outputStream(Writer w) {
        return new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                w.write(ByteBuffer.wrap(b, off, len));
            }
        };
    }
}
