package io.jcontainerd.archive;

import io.jcontainerd.errdefs.Errdefs;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.attribute.FileTime;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarUtils;

/**
 * commons-compress's tar reader with the limits and details layers need: special headers (PAX, GNU long
 * names) are capped at 1 MiB as Go's archive/tar does, a header cut short is an error rather than the
 * end of the archive, and PAX xattr values are taken from the raw header bytes because commons decodes
 * them as UTF-8, which would corrupt binary values such as {@code security.capability}.
 */
final class LayerTarReader extends TarArchiveInputStream {
    /** Go's archive/tar maxSpecialFileSize. */
    static final long MAX_SPECIAL_SIZE = 1 << 20;
    private static final String XATTR_PREFIX = "SCHILY.xattr.";

    private final DigestingInputStream source;
    private final ByteArrayOutputStream paxRaw = new ByteArrayOutputStream();

    LayerTarReader(DigestingInputStream source) {
        super(source, StandardCharsets.UTF_8.name());
        this.source = source;
    }

    /** The next entry, or null at the end of the archive. */
    TarEntry nextEntry() throws IOException {
        paxRaw.reset();
        TarArchiveEntry e = getNextEntry();
        if (e == null) return null;
        if (e.getSize() < 0) throw Errdefs.invalidArgument("invalid tar header for %s: negative size", e.getName());
        if (e.getName().indexOf('\0') >= 0 || e.getLinkName().indexOf('\0') >= 0) {
            throw Errdefs.invalidArgument("invalid tar header: NUL in name %s", e.getName().replace('\0', '?'));
        }
        // sparse files (GNU or PAX) are read expanded, as regular files of their real size, as Go's reader does
        char type = e.isSparse() ? TarEntry.REG : (char) (e.getLinkFlag() & 0xff);
        long size = e.isSparse() ? e.getRealSize() : e.getSize();
        return new TarEntry(e.getName(), type, e.getLinkName(), size, e.getMode(),
                e.getLongUserId(), e.getLongGroupId(), e.getDevMajor(), e.getDevMinor(),
                nanos(e.getLastModifiedTime()), nanos(e.getLastAccessTime()), xattrs());
    }

    private static long nanos(FileTime t) {
        return t == null ? TarEntry.NO_TIME : FileStat.nanos(t);
    }

    private static boolean special(TarArchiveEntry e) {
        return switch (e.getLinkFlag()) {
            case 'x', 'X', 'g', 'L', 'K' -> true;
            default -> false;
        };
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        TarArchiveEntry cur = getCurrentEntry();
        boolean special = cur != null && special(cur);
        if (special && cur.getSize() > MAX_SPECIAL_SIZE) {
            throw Errdefs.invalidArgument("invalid tar archive: %s header of %d bytes exceeds the %d byte limit",
                    (char) cur.getLinkFlag(), cur.getSize(), MAX_SPECIAL_SIZE);
        }
        int n = super.read(b, off, len);
        if (n > 0 && special && (cur.getLinkFlag() == 'x' || cur.getLinkFlag() == 'X')) paxRaw.write(b, off, n);
        return n;
    }

    @Override
    protected byte[] readRecord() throws IOException {
        long before = source.count();
        byte[] r = super.readRecord();
        // commons reports a partial header as the end of the archive; Go (and we) call it truncated
        if (r == null && source.count() != before) {
            throw Errdefs.invalidArgument("invalid tar archive: truncated header at offset %d", before);
        }
        // commons does not check header checksums (Go does); old GNU sparse extension blocks carry none
        TarArchiveEntry cur = getCurrentEntry();
        boolean sparseExtension = cur != null && cur.isExtended();
        if (r != null && !sparseExtension && !isEOFRecord(r) && !TarUtils.verifyCheckSum(r)) {
            throw Errdefs.invalidArgument("invalid tar archive: header checksum mismatch at offset %d", before);
        }
        return r;
    }

    /** SCHILY.xattr.* records of the local PAX header(s) of the entry just read, values as raw bytes. */
    private Map<String, byte[]> xattrs() {
        if (paxRaw.size() == 0) return Map.of();
        byte[] b = paxRaw.toByteArray();
        Map<String, byte[]> out = new LinkedHashMap<>();
        int pos = 0;
        while (pos < b.length) {
            int sp = pos;
            long len = 0;
            while (sp < b.length && b[sp] >= '0' && b[sp] <= '9' && len < b.length) len = len * 10 + (b[sp++] - '0');
            if (sp >= b.length || b[sp] != ' ' || len <= 0 || pos + len > b.length) break; // commons validated already
            int end = (int) (pos + len) - 1; // the trailing newline
            int eq = sp + 1;
            while (eq < end && b[eq] != '=') eq++;
            String key = new String(b, sp + 1, eq - sp - 1, StandardCharsets.UTF_8);
            if (key.startsWith(XATTR_PREFIX) && eq < end) {
                byte[] value = java.util.Arrays.copyOfRange(b, eq + 1, end);
                out.put(key.substring(XATTR_PREFIX.length()), value);
            }
            pos = (int) (pos + len);
        }
        return out;
    }
}
