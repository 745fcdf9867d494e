package io.jcontainerd.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.zip.GZIPOutputStream;

/**
 * Writes layer tarballs for tests, byte by byte (ustar headers, PAX records when asked), so that tests
 * can make both ordinary layers and hostile ones (escaping names, odd links, oversized headers) without
 * going through the product's own tar writer or GNU tar's sanitising.
 */
public final class TarBuilder {
    /** A fixed modification time for every entry (2023-11-14), so layers are reproducible. */
    public static final long MTIME = 1_700_000_000L;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    public TarBuilder dir(String name, int mode, int uid, int gid) {
        return entry(name.endsWith("/") ? name : name + "/", '5', mode, uid, gid, "", new byte[0]);
    }

    public TarBuilder dir(String name) {
        return dir(name, 0755, 0, 0);
    }

    public TarBuilder file(String name, String content) {
        return file(name, content.getBytes(StandardCharsets.UTF_8), 0644, 0, 0);
    }

    public TarBuilder file(String name, byte[] content, int mode, int uid, int gid) {
        return entry(name, '0', mode, uid, gid, "", content);
    }

    public TarBuilder symlink(String name, String target) {
        return entry(name, '2', 0777, 0, 0, target, new byte[0]);
    }

    public TarBuilder hardlink(String name, String target) {
        return entry(name, '1', 0644, 0, 0, target, new byte[0]);
    }

    /** An OCI whiteout: deletes {@code name} (a path such as {@code dir/file}) from the layers below. */
    public TarBuilder whiteout(String name) {
        int slash = name.lastIndexOf('/');
        String wh = slash < 0 ? ".wh." + name : name.substring(0, slash + 1) + ".wh." + name.substring(slash + 1);
        return file(wh, new byte[0], 0644, 0, 0);
    }

    /** A PAX extended header of {@code records} (already formatted "len key=value\n" lines), applying to the next entry. */
    public TarBuilder paxHeader(byte[] records) {
        return entry("PaxHeaders/x", 'x', 0644, 0, 0, "", records);
    }

    /**
     * One entry: a header and its data padded to 512 bytes. Names and link names longer than a ustar
     * field go in a PAX header before it, as Go's archive/tar writes them.
     */
    public TarBuilder entry(String name, char type, int mode, int uid, int gid, String linkName, byte[] data) {
        String pax = "";
        if (name.getBytes(StandardCharsets.UTF_8).length > 100) {
            pax += paxRecord("path", name);
            name = "PaxHeaders/long";
        }
        if (linkName.getBytes(StandardCharsets.UTF_8).length > 100) {
            pax += paxRecord("linkpath", linkName);
            linkName = "PaxHeaders/long";
        }
        if (!pax.isEmpty()) paxHeader(pax.getBytes(StandardCharsets.UTF_8));
        byte[] h = new byte[512];
        put(h, 0, 100, name);
        octal(h, 100, 8, mode);
        octal(h, 108, 8, uid);
        octal(h, 116, 8, gid);
        octal(h, 124, 12, data.length);
        octal(h, 136, 12, MTIME);
        h[156] = (byte) type;
        put(h, 157, 100, linkName);
        put(h, 257, 6, "ustar");
        put(h, 263, 2, "00");
        for (int i = 148; i < 156; i++) h[i] = ' ';
        long sum = 0;
        for (byte b : h) sum += b & 0xff;
        octal(h, 148, 7, sum);
        out.writeBytes(h);
        out.writeBytes(data);
        int pad = (512 - data.length % 512) % 512;
        out.writeBytes(new byte[pad]);
        return this;
    }

    private static void put(byte[] h, int off, int len, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        if (b.length > len) throw new IllegalArgumentException("too long for a ustar field: " + s);
        System.arraycopy(b, 0, h, off, b.length);
    }

    private static void octal(byte[] h, int off, int len, long v) {
        String s = Long.toOctalString(v);
        String padded = "0".repeat(len - 1 - s.length()) + s; // NUL terminated
        put(h, off, len - 1, padded);
    }

    /** The archive with its two zero blocks. */
    public byte[] tar() {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(out.toByteArray());
        b.writeBytes(new byte[1024]);
        return b.toByteArray();
    }

    public byte[] tarGz() {
        return gzip(tar());
    }

    public static byte[] gzip(byte[] data) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(b)) {
            gz.write(data);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return b.toByteArray();
    }

    /** A PAX record "len key=value\n" (value ASCII), its length counting itself. */
    public static String paxRecord(String key, String value) {
        return new String(paxRecord(key, value.getBytes(StandardCharsets.ISO_8859_1)), StandardCharsets.ISO_8859_1);
    }

    /** A PAX record with a binary value (such as an xattr's). */
    public static byte[] paxRecord(String key, byte[] value) {
        int body = key.length() + value.length + 3; // ' ', '=', '\n'
        int len = body + Integer.toString(body).length();
        if (Integer.toString(len).length() != Integer.toString(body).length()) len++;
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes((len + " " + key + "=").getBytes(StandardCharsets.ISO_8859_1));
        b.writeBytes(value);
        b.write('\n');
        return b.toByteArray();
    }
}
