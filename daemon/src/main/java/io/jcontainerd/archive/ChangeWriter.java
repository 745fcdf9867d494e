package io.jcontainerd.archive;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns {@link Changes} of a directory into an OCI layer tar (containerd's {@code archive.ChangeWriter}):
 * deletions become {@code .wh.<name>} entries, the parents of every entry are written before it, hardlinked
 * files are written once and linked after, sockets are skipped. Entries carry mode, owner, device numbers,
 * mtime truncated to seconds and the {@code security.capability} xattr (the only xattr containerd's diffs carry).
 */
public final class ChangeWriter implements Changes.Handler, AutoCloseable {
    private final TarWriter tar;
    private final Path source;
    private final long whiteoutTime = System.currentTimeMillis() / 1000;
    private final Map<Long, String> inodeSource = new HashMap<>();
    private final Map<Long, List<String>> inodeRefs = new HashMap<>();
    private final Set<String> addedDirs = new HashSet<>();
    private final byte[] buffer = new byte[128 * 1024];

    public ChangeWriter(OutputStream out, Path source) {
        this.tar = new TarWriter(out);
        this.source = source;
    }

    /** Writes the tar of the changes from {@code lower} (null: nothing) to {@code upper} into {@code out}. */
    public static void writeDiff(Path lower, Path upper, OutputStream out) throws IOException {
        try (ChangeWriter cw = new ChangeWriter(out, upper)) {
            Changes.compare(lower, upper, cw);
        }
    }

    @Override
    public void handle(Changes.Kind kind, String p, FileStat st) throws IOException {
        String rel = p.startsWith("/") ? p.substring(1) : p;
        if (kind == Changes.Kind.DELETE) {
            int slash = rel.lastIndexOf('/');
            String name = (slash < 0 ? "" : rel.substring(0, slash + 1)) + Applier.WHITEOUT_PREFIX + rel.substring(slash + 1);
            var hdr = new TarWriter.Header(name, TarEntry.REG, 0, 0, 0, 0, whiteoutTime, "", 0, 0, Map.of());
            includeParents(hdr);
            tar.writeHeader(hdr);
            return;
        }
        Path file = source.resolve(rel);
        char type;
        String link = "";
        long size = 0;
        switch (st.type()) {
            case FileStat.S_IFSOCK -> {
                return;
            }
            case FileStat.S_IFLNK -> {
                type = TarEntry.SYMLINK;
                link = ArchiveSyscalls.readlink(file);
            }
            case FileStat.S_IFDIR -> type = TarEntry.DIR;
            case FileStat.S_IFCHR -> type = TarEntry.CHAR;
            case FileStat.S_IFBLK -> type = TarEntry.BLOCK;
            case FileStat.S_IFIFO -> type = TarEntry.FIFO;
            default -> {
                type = TarEntry.REG;
                size = st.size();
            }
        }
        String name = st.isDir() && !rel.endsWith("/") ? rel + "/" : rel;
        int major = st.isDevice() ? ArchiveSyscalls.major(st.rdev()) : 0;
        int minor = st.isDevice() ? ArchiveSyscalls.minor(st.rdev()) : 0;

        List<String> additionalLinks = null;
        if (st.isLinked()) {
            String src = inodeSource.get(st.ino());
            if (src != null) {
                type = TarEntry.LINK;
                link = src;
                size = 0;
            } else {
                if (kind == Changes.Kind.UNMODIFIED) {
                    inodeRefs.computeIfAbsent(st.ino(), k -> new ArrayList<>()).add(name);
                    return;
                }
                inodeSource.put(st.ino(), name);
                additionalLinks = inodeRefs.remove(st.ino());
            }
        } else if (kind == Changes.Kind.UNMODIFIED) {
            return;
        }

        byte[] cap = ArchiveSyscalls.lgetxattr(file, "security.capability");
        Map<String, byte[]> pax = cap == null || cap.length == 0 ? Map.of() : Map.of("SCHILY.xattr.security.capability", cap);
        var hdr = new TarWriter.Header(name, type, st.perm(), st.uid(), st.gid(), size,
                Math.floorDiv(st.mtimeNanos(), 1_000_000_000L), link, major, minor, pax);
        includeParents(hdr);
        tar.writeHeader(hdr);
        if (type == TarEntry.REG && size > 0) copy(file, size);
        if (additionalLinks != null) {
            for (String extra : additionalLinks) {
                var l = new TarWriter.Header(extra, TarEntry.LINK, hdr.mode(), hdr.uid(), hdr.gid(), 0,
                        hdr.mtimeSeconds(), name, major, minor, pax);
                includeParents(l);
                tar.writeHeader(l);
            }
        }
    }

    private void copy(Path file, long size) throws IOException {
        long written = 0;
        try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
            for (int n; written < size && (n = in.read(buffer, 0, (int) Math.min(buffer.length, size - written))) > 0; ) {
                tar.write(buffer, 0, n);
                written += n;
            }
            if (written == size && in.read() >= 0) throw new IOException("file " + file + " grew while writing the diff");
        }
        if (written != size) throw new IOException("short write copying file " + file);
    }

    /** Writes the (not yet written) parent directory of an entry first, as a modification, recursively. */
    private void includeParents(TarWriter.Header hdr) throws IOException {
        String name = hdr.name().replaceAll("/+$", "");
        int slash = name.lastIndexOf('/');
        if (!name.isEmpty() && slash > 0) {
            String parent = name.substring(0, slash);
            if (addedDirs.add(parent)) handle(Changes.Kind.MODIFY, parent, FileStat.lstat(source.resolve(parent)));
        }
        if (hdr.type() == TarEntry.DIR) addedDirs.add(name);
    }

    @Override
    public void close() throws IOException {
        tar.close();
    }
}
