package io.jcontainerd.client.archive;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/** Writes ustar entries (PAX headers for long names or large sizes), as image layout archives need. */
final class TarWriter implements AutoCloseable {
    private static final long OCTAL_MAX = 077777777777L;
    private final OutputStream out;
    private final long mtime;

    TarWriter(OutputStream out, long mtimeSeconds) {
        this.out = out;
        this.mtime = mtimeSeconds;
    }

    void directory(String name) throws IOException {
        header(name.endsWith("/") ? name : name + "/", 0, '5', 0755);
    }

    void file(String name, byte[] data) throws IOException {
        header(name, data.length, '0', 0644);
        out.write(data);
        pad(data.length);
    }

    /** Writes exactly {@code size} bytes from {@code in}. */
    void file(String name, long size, InputStream in) throws IOException {
        header(name, size, '0', 0644);
        long n = in.transferTo(new OutputStream() {
            long left = size;

            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                if (len > left) throw new IOException(name + ": more than " + size + " bytes");
                out.write(b, off, len);
                left -= len;
            }
        });
        if (n != size) throw new IOException(name + ": expected " + size + " bytes, got " + n);
        pad(size);
    }

    private void header(String name, long size, char type, int mode) throws IOException {
        byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
        if (nameBytes.length > 100 || size > OCTAL_MAX) {
            StringBuilder pax = new StringBuilder();
            if (nameBytes.length > 100) pax.append(paxRecord("path", name));
            if (size > OCTAL_MAX) pax.append(paxRecord("size", Long.toString(size)));
            byte[] p = pax.toString().getBytes(StandardCharsets.UTF_8);
            out.write(block("PaxHeaders/" + (name.length() > 80 ? name.substring(0, 80) : name), p.length, 'x', 0644));
            out.write(p);
            pad(p.length);
        }
        out.write(block(name, size, type, mode));
    }

    private byte[] block(String name, long size, char type, int mode) {
        byte[] h = new byte[512];
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        System.arraycopy(n, 0, h, 0, Math.min(100, n.length));
        octal(h, 100, 8, mode);
        octal(h, 108, 8, 0);
        octal(h, 116, 8, 0);
        octal(h, 124, 12, Math.min(size, OCTAL_MAX));
        octal(h, 136, 12, mtime);
        h[156] = (byte) type;
        System.arraycopy("ustar\0".getBytes(StandardCharsets.US_ASCII), 0, h, 257, 6);
        h[263] = '0';
        h[264] = '0';
        for (int i = 148; i < 156; i++) h[i] = ' ';
        long sum = 0;
        for (byte b : h) sum += b & 0xff;
        octal(h, 148, 7, sum);
        h[155] = ' ';
        return h;
    }

    private static String paxRecord(String key, String value) {
        String body = " " + key + "=" + value + "\n";
        int len = body.getBytes(StandardCharsets.UTF_8).length;
        int total = len + Integer.toString(len).length();
        if (Integer.toString(total).length() != Integer.toString(len).length()) total++;
        return total + body;
    }

    private static void octal(byte[] h, int off, int len, long v) {
        String s = Long.toOctalString(v);
        int width = len - 1;
        while (s.length() < width) s = "0" + s;
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(b, b.length - width, h, off, width);
        h[off + width] = 0;
    }

    private void pad(long size) throws IOException {
        int p = (int) ((512 - size % 512) % 512);
        if (p > 0) out.write(new byte[p]);
    }

    /** Ends the archive (two zero blocks); does not close the stream. */
    @Override
    public void close() throws IOException {
        out.write(new byte[1024]);
        out.flush();
    }
}
