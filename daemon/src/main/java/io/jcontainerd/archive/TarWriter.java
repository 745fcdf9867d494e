package io.jcontainerd.archive;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A streaming tar writer producing what Go's archive/tar writes for PAX-format headers: a ustar header,
 * preceded by a PAX extended header only for what ustar cannot hold (long or non-ASCII names, large numbers)
 * and for extra records such as {@code SCHILY.xattr.*}, whose values are written as raw bytes.
 * The archive ends with two zero blocks; closing does not close the underlying stream.
 */
public final class TarWriter implements AutoCloseable {
    static final int BLOCK = 512;
    private static final long MAX_OCTAL_8 = 07777777L;
    private static final long MAX_OCTAL_12 = 077777777777L;

    private final OutputStream out;
    private final byte[] block = new byte[BLOCK];
    private long remaining;
    private long entrySize;
    private boolean closed;

    public TarWriter(OutputStream out) {
        this.out = out;
    }

    /**
     * One header. {@code mtimeSeconds} is whole seconds; {@code pax} holds extra PAX records (key to raw value).
     */
    public record Header(String name, char type, int mode, long uid, long gid, long size, long mtimeSeconds,
                         String linkName, int devMajor, int devMinor, Map<String, byte[]> pax) {
        public Header {
            if (linkName == null) linkName = "";
            if (pax == null) pax = Map.of();
        }
    }

    /** Starts an entry; exactly {@code size} data bytes must follow for regular files (0 for everything else). */
    public void writeHeader(Header h) throws IOException {
        finishEntry();
        Map<String, byte[]> records = new LinkedHashMap<>();
        byte[] name = h.name().getBytes(StandardCharsets.UTF_8);
        byte[] link = h.linkName().getBytes(StandardCharsets.UTF_8);
        if (name.length > 100 || !ascii(name)) records.put("path", name);
        if (link.length > 100 || !ascii(link)) records.put("linkpath", link);
        if (h.uid() < 0 || h.uid() > MAX_OCTAL_8) records.put("uid", num(h.uid()));
        if (h.gid() < 0 || h.gid() > MAX_OCTAL_8) records.put("gid", num(h.gid()));
        if (h.size() > MAX_OCTAL_12) records.put("size", num(h.size()));
        if (h.mtimeSeconds() < 0 || h.mtimeSeconds() > MAX_OCTAL_12) records.put("mtime", num(h.mtimeSeconds()));
        records.putAll(h.pax());

        if (!records.isEmpty()) {
            byte[] data = paxData(records);
            String base = h.name().replaceAll("/+$", "");
            int slash = base.lastIndexOf('/');
            String paxName = (slash < 0 ? "" : base.substring(0, slash + 1)) + "PaxHeaders.0/" + base.substring(slash + 1);
            writeBlock(asciiField(paxName), 'x', 0, 0, 0, data.length, 0, new byte[0], 0, 0);
            out.write(data);
            pad(data.length);
        }
        writeBlock(records.containsKey("path") ? asciiField(h.name()) : name, h.type(), h.mode(),
                fits8(h.uid()) ? h.uid() : 0, fits8(h.gid()) ? h.gid() : 0,
                h.size() <= MAX_OCTAL_12 ? h.size() : 0,
                h.mtimeSeconds() >= 0 && h.mtimeSeconds() <= MAX_OCTAL_12 ? h.mtimeSeconds() : 0,
                records.containsKey("linkpath") ? asciiField(h.linkName()) : link, h.devMajor(), h.devMinor());
        entrySize = h.size();
        remaining = h.size();
    }

    public void write(byte[] b, int off, int len) throws IOException {
        if (len > remaining) throw new IOException("tar: write too long");
        out.write(b, off, len);
        remaining -= len;
    }

    private void finishEntry() throws IOException {
        if (remaining != 0) throw new IOException("tar: missed writing " + remaining + " bytes");
        pad(entrySize);
        entrySize = 0;
    }

    @Override
    public void close() throws IOException {
        if (closed) return;
        finishEntry();
        out.write(new byte[2 * BLOCK]);
        out.flush();
        closed = true;
    }

    private void pad(long size) throws IOException {
        int rem = (int) (size % BLOCK);
        if (rem != 0) out.write(new byte[BLOCK - rem]);
    }

    private static boolean fits8(long v) {
        return v >= 0 && v <= MAX_OCTAL_8;
    }

    private void writeBlock(byte[] name, char type, int mode, long uid, long gid, long size, long mtime,
                            byte[] link, int devMajor, int devMinor) throws IOException {
        Arrays.fill(block, (byte) 0);
        System.arraycopy(name, 0, block, 0, Math.min(100, name.length));
        octal(100, 8, mode & 07777);
        octal(108, 8, uid);
        octal(116, 8, gid);
        octal(124, 12, size);
        octal(136, 12, mtime);
        block[156] = (byte) type;
        System.arraycopy(link, 0, block, 157, Math.min(100, link.length));
        System.arraycopy("ustar\0".getBytes(StandardCharsets.US_ASCII), 0, block, 257, 6);
        block[263] = '0';
        block[264] = '0';
        octal(329, 8, devMajor);
        octal(337, 8, devMinor);
        Arrays.fill(block, 148, 156, (byte) ' ');
        long sum = 0;
        for (byte b : block) sum += b & 0xff;
        octal(148, 7, sum);
        block[155] = ' ';
        out.write(block);
    }

    /** Zero-padded octal, NUL-terminated, as Go's formatOctal; values that do not fit are written by base-256. */
    private void octal(int off, int len, long v) {
        String s = Long.toOctalString(v);
        if (v < 0 || s.length() > len - 1) {
            // base-256 (GNU), only reachable for device numbers
            block[off] = (byte) 0x80;
            for (int i = len - 1; i > 0; i--, v >>= 8) block[off + i] = (byte) v;
            return;
        }
        int zeros = len - 1 - s.length();
        for (int i = 0; i < zeros; i++) block[off + i] = '0';
        for (int i = 0; i < s.length(); i++) block[off + zeros + i] = (byte) s.charAt(i);
        block[off + len - 1] = 0;
    }

    private static byte[] num(long v) {
        return Long.toString(v).getBytes(StandardCharsets.US_ASCII);
    }

    private static boolean ascii(byte[] b) {
        for (byte x : b) if (x < 0 || x == 0) return false;
        return true;
    }

    /** Non-ASCII replaced, cut to the 100-byte field: the real value is in the PAX record. */
    private static byte[] asciiField(String s) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length() && sb.length() < 100; i++) {
            char c = s.charAt(i);
            if (c > 0 && c < 0x80) sb.append(c);
        }
        return sb.toString().replaceAll("/+$", "").getBytes(StandardCharsets.US_ASCII);
    }

    /** PAX records "%d %s=%s\n" where the length counts the whole record, itself included. */
    static byte[] paxData(Map<String, byte[]> records) throws IOException {
        var buf = new java.io.ByteArrayOutputStream();
        for (var r : records.entrySet()) {
            byte[] key = r.getKey().getBytes(StandardCharsets.UTF_8);
            byte[] value = r.getValue();
            int body = 1 + key.length + 1 + value.length + 1; // " key=value\n"
            int len = body + Integer.toString(body).length();
            if (Integer.toString(len).length() != Integer.toString(body).length()) len = body + Integer.toString(len).length();
            buf.write(Integer.toString(len).getBytes(StandardCharsets.US_ASCII));
            buf.write(' ');
            buf.write(key);
            buf.write('=');
            buf.write(value);
            buf.write('\n');
        }
        if (buf.size() > LayerTarReader.MAX_SPECIAL_SIZE) throw new IOException("tar: PAX header too long");
        return buf.toByteArray();
    }
}
