package io.jcontainerd.archive;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/** Builds tar streams for tests, including deliberately broken ones. */
final class Tars {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final TarWriter w = new TarWriter(out);
    static final long MTIME = 1_700_000_000L;

    Tars file(String name, String content) {
        return file(name, content, 0644, 0, 0, Map.of());
    }

    Tars file(String name, String content, int mode, int uid, int gid, Map<String, byte[]> xattrs) {
        byte[] b = content.getBytes(StandardCharsets.UTF_8);
        Map<String, byte[]> pax = new LinkedHashMap<>();
        xattrs.forEach((k, v) -> pax.put("SCHILY.xattr." + k, v));
        return entry(new TarWriter.Header(name, '0', mode, uid, gid, b.length, MTIME, "", 0, 0, pax), b);
    }

    Tars dir(String name) {
        return dir(name, 0755, 0, 0);
    }

    Tars dir(String name, int mode, int uid, int gid) {
        return entry(new TarWriter.Header(name, '5', mode, uid, gid, 0, MTIME, "", 0, 0, null), null);
    }

    Tars symlink(String name, String target) {
        return entry(new TarWriter.Header(name, '2', 0777, 0, 0, 0, MTIME, target, 0, 0, null), null);
    }

    Tars hardlink(String name, String target) {
        return entry(new TarWriter.Header(name, '1', 0644, 0, 0, 0, MTIME, target, 0, 0, null), null);
    }

    Tars device(String name, char type, int major, int minor) {
        return entry(new TarWriter.Header(name, type, 0600, 0, 0, 0, MTIME, "", major, minor, null), null);
    }

    Tars fifo(String name) {
        return entry(new TarWriter.Header(name, '6', 0640, 0, 0, 0, MTIME, "", 0, 0, null), null);
    }

    Tars entry(TarWriter.Header h, byte[] data) {
        try {
            w.writeHeader(h);
            if (data != null) w.write(data, 0, data.length);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    /** Raw bytes appended as they are (for hand-made headers). */
    Tars raw(byte[] b) {
        out.writeBytes(b);
        return this;
    }

    byte[] bytes() {
        try {
            w.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** Bytes so far, without the end-of-archive blocks. */
    byte[] unterminated() {
        return out.toByteArray();
    }

    /** A ustar header block with the given raw size field (12 bytes incl. terminator), checksum fixed. */
    static byte[] header(String name, char type, byte[] sizeField) {
        byte[] b = new byte[512];
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        System.arraycopy(n, 0, b, 0, n.length);
        System.arraycopy("0000644\0".getBytes(StandardCharsets.US_ASCII), 0, b, 100, 8);
        System.arraycopy("0000000\0".getBytes(StandardCharsets.US_ASCII), 0, b, 108, 8);
        System.arraycopy("0000000\0".getBytes(StandardCharsets.US_ASCII), 0, b, 116, 8);
        System.arraycopy(sizeField, 0, b, 124, 12);
        System.arraycopy("14000000000\0".getBytes(StandardCharsets.US_ASCII), 0, b, 136, 12);
        b[156] = (byte) type;
        System.arraycopy("ustar\0".getBytes(StandardCharsets.US_ASCII), 0, b, 257, 6);
        b[263] = '0';
        b[264] = '0';
        fixChecksum(b);
        return b;
    }

    static byte[] octalSize(long size) {
        return String.format("%011o\0", size).getBytes(StandardCharsets.US_ASCII);
    }

    static void fixChecksum(byte[] b) {
        Arrays.fill(b, 148, 156, (byte) ' ');
        long sum = 0;
        for (int i = 0; i < 512; i++) sum += b[i] & 0xff;
        byte[] c = String.format("%06o\0 ", sum).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(c, 0, b, 148, 8);
    }

    static byte[] padded(byte[] data) {
        return Arrays.copyOf(data, (data.length + 511) / 512 * 512);
    }
}
