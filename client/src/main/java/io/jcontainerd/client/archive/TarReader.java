package io.jcontainerd.client.archive;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * Reads tar streams as image archives need: regular files, directories, symlinks, with names from
 * ustar prefix+name, GNU long names and PAX headers (path, linkpath, size). Each entry's data is read
 * through {@link #data()} before moving on.
 */
final class TarReader {
    record Entry(String name, char type, long size, String linkName) {
        boolean isFile() {
            return type == '0' || type == '\0' || type == '7';
        }

        boolean isSymlink() {
            return type == '2';
        }
    }

    private final InputStream in;
    private long remaining;
    private long padding;

    TarReader(InputStream in) {
        this.in = in;
    }

    /** The next entry, or null at the end of the archive. */
    Entry next() throws IOException {
        skipRest();
        String longName = null;
        String longLink = null;
        Map<String, String> pax = new HashMap<>();
        while (true) {
            byte[] h = in.readNBytes(512);
            if (h.length == 0) return null;
            if (h.length < 512) throw new EOFException("truncated tar header");
            if (allZero(h)) return null;
            verifyChecksum(h);
            char type = (char) h[156];
            long size = number(h, 124, 12);
            if (type == 'L' || type == 'K' || type == 'x' || type == 'g') {
                byte[] data = readExactly(size);
                skip(pad(size));
                String s = new String(data, StandardCharsets.UTF_8);
                switch (type) {
                    case 'L' -> longName = trimNul(s);
                    case 'K' -> longLink = trimNul(s);
                    case 'x' -> pax.putAll(parsePax(s));
                    default -> { } // global headers carry nothing we use
                }
                continue;
            }
            String name = str(h, 0, 100);
            if (str(h, 257, 6).startsWith("ustar")) {
                String prefix = str(h, 345, 155);
                if (!prefix.isEmpty()) name = prefix + "/" + name;
            }
            if (longName != null) name = longName;
            if (pax.containsKey("path")) name = pax.get("path");
            String link = longLink != null ? longLink : str(h, 157, 100);
            if (pax.containsKey("linkpath")) link = pax.get("linkpath");
            if (pax.containsKey("size")) size = Long.parseLong(pax.get("size"));
            if (type != '0' && type != '\0' && type != '7') size = type == '5' || type == '2' || type == '1' ? 0 : size;
            remaining = size;
            padding = pad(size);
            return new Entry(clean(name), type, size, link);
        }
    }

    /** The current entry's data (exactly its size). */
    InputStream data() {
        return new InputStream() {
            @Override
            public int read() throws IOException {
                if (remaining <= 0) return -1;
                int b = in.read();
                if (b < 0) throw new EOFException("truncated tar entry");
                remaining--;
                return b;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (remaining <= 0) return -1;
                int n = in.read(b, off, (int) Math.min(len, remaining));
                if (n < 0) throw new EOFException("truncated tar entry");
                remaining -= n;
                return n;
            }
        };
    }

    private void skipRest() throws IOException {
        skip(remaining + padding);
        remaining = 0;
        padding = 0;
    }

    private void skip(long n) throws IOException {
        in.skipNBytes(n);
    }

    private byte[] readExactly(long n) throws IOException {
        if (n > 1 << 20) throw new IOException("tar extension header too large: " + n);
        byte[] b = in.readNBytes((int) n);
        if (b.length < n) throw new EOFException("truncated tar extension header");
        return b;
    }

    private static long pad(long size) {
        return (512 - size % 512) % 512;
    }

    private static String clean(String name) {
        while (name.startsWith("./")) name = name.substring(2);
        while (name.startsWith("/")) name = name.substring(1);
        return name;
    }

    private static boolean allZero(byte[] h) {
        for (byte b : h) if (b != 0) return false;
        return true;
    }

    private static void verifyChecksum(byte[] h) throws IOException {
        long want = number(h, 148, 8);
        long sum = 0;
        for (int i = 0; i < 512; i++) sum += (i >= 148 && i < 156) ? ' ' : (h[i] & 0xff);
        if (sum != want) throw new IOException("invalid tar header checksum");
    }

    private static String str(byte[] h, int off, int len) {
        int end = off;
        while (end < off + len && h[end] != 0) end++;
        return new String(h, off, end - off, StandardCharsets.UTF_8);
    }

    private static String trimNul(String s) {
        int i = s.indexOf('\0');
        return i >= 0 ? s.substring(0, i) : s;
    }

    /** Octal, or GNU base-256 when the high bit of the first byte is set. */
    static long number(byte[] h, int off, int len) {
        if ((h[off] & 0x80) != 0) {
            long v = h[off] & 0x7f;
            for (int i = 1; i < len; i++) v = (v << 8) | (h[off + i] & 0xff);
            return v;
        }
        int i = off;
        int end = off + len;
        while (i < end && h[i] == ' ') i++;
        long v = 0;
        for (; i < end && h[i] >= '0' && h[i] <= '7'; i++) v = v * 8 + (h[i] - '0');
        return v;
    }

    private static Map<String, String> parsePax(String s) {
        Map<String, String> m = new HashMap<>();
        int i = 0;
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        while (i < bytes.length) {
            int sp = i;
            while (sp < bytes.length && bytes[sp] != ' ') sp++;
            if (sp >= bytes.length) break;
            int len = Integer.parseInt(new String(bytes, i, sp - i, StandardCharsets.UTF_8));
            if (len <= 0 || i + len > bytes.length) break;
            String rec = new String(bytes, sp + 1, len - (sp - i) - 2, StandardCharsets.UTF_8);
            int eq = rec.indexOf('=');
            if (eq > 0) m.put(rec.substring(0, eq), rec.substring(eq + 1));
            i += len;
        }
        return m;
    }
}
