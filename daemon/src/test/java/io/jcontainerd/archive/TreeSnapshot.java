package io.jcontainerd.archive;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/** A comparable description of a directory tree, for tests. */
public final class TreeSnapshot {
    private TreeSnapshot() {}

    /**
     * Every file below a tree: type, mode, owner, mtime (whole seconds), size and content digest, device,
     * symlink target, capability xattr, and which other paths share its inode. The root itself is left out.
     */
    public static Map<String, String> of(Path tree) throws IOException {
        Map<String, String> m = new TreeMap<>();
        Map<Long, List<String>> inodes = new TreeMap<>();
        List<Path> all;
        try (Stream<Path> s = Files.walk(tree)) {
            all = s.filter(p -> !p.equals(tree)).toList();
        }
        for (Path p : all) {
            inodes.computeIfAbsent(FileStat.lstat(p).ino(), k -> new ArrayList<>()).add(tree.relativize(p).toString());
        }
        for (Path p : all) {
            FileStat st = FileStat.lstat(p);
            StringBuilder sb = new StringBuilder();
            sb.append(Integer.toOctalString(st.mode())).append(' ').append(st.uid()).append(':').append(st.gid())
                    .append(" mtime=").append(Math.floorDiv(st.mtimeNanos(), 1_000_000_000L));
            if (st.isRegular()) {
                sb.append(" size=").append(st.size()).append(" sha=").append(contentHash(p));
                List<String> names = inodes.get(st.ino());
                if (names.size() > 1) sb.append(" links=").append(names.stream().sorted().toList());
            }
            if (st.isSymlink()) sb.append(" -> ").append(ArchiveSyscalls.readlink(p));
            if (st.isDevice()) sb.append(" dev=").append(st.rdev());
            byte[] cap = st.isSymlink() ? null : ArchiveSyscalls.lgetxattr(p, "security.capability");
            if (cap != null) sb.append(" cap=").append(HexFormat.of().formatHex(cap));
            m.put(tree.relativize(p).toString(), sb.toString());
        }
        return m;
    }

    static String contentHash(Path p) throws IOException {
        try (InputStream in = Files.newInputStream(p)) {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(in.readAllBytes()));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
