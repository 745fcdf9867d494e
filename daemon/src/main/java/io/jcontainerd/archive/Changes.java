package io.jcontainerd.archive;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The changes between two directory trees, computed by walking both in name order (continuity's
 * {@code fs.Changes} double walk). Handlers see changes parent first, in an order that can be applied:
 * a removed directory is one DELETE (its contents are implied), an added directory is followed by its
 * contents. Files are equal when they are the same inode, or have the same type, mode, owner, device
 * number and capabilities and (non-directories) the same size and mtime; when both mtimes have zero
 * nanoseconds (possibly truncated by an archive) the content, or the symlink target, is compared.
 * Unchanged files with several links are reported as UNMODIFIED so hardlinks can be kept together.
 */
public final class Changes {
    private Changes() {}

    public enum Kind { UNMODIFIED, ADD, MODIFY, DELETE }

    @FunctionalInterface
    public interface Handler {
        /** {@code path} is absolute within the tree ("/a/b"); {@code stat} is the upper file's, null for DELETE. */
        void handle(Kind kind, String path, FileStat stat) throws IOException;
    }

    /** Reports the changes from {@code lower} to {@code upper}; a null lower means everything in upper was added. */
    public static void compare(Path lower, Path upper, Handler handler) throws IOException {
        walk("", lower, upper, handler);
    }

    private static void walk(String rel, Path lowerDir, Path upperDir, Handler h) throws IOException {
        List<String> lowers = lowerDir == null ? List.of() : names(lowerDir);
        List<String> uppers = names(upperDir);
        int i = 0, j = 0;
        while (i < lowers.size() || j < uppers.size()) {
            int cmp = i >= lowers.size() ? 1 : j >= uppers.size() ? -1 : lowers.get(i).compareTo(uppers.get(j));
            if (cmp < 0) {
                h.handle(Kind.DELETE, rel + "/" + lowers.get(i++), null);
                continue;
            }
            String name = uppers.get(j++);
            String path = rel + "/" + name;
            Path u = upperDir.resolve(name);
            FileStat us = FileStat.lstat(u);
            if (cmp > 0) {
                h.handle(Kind.ADD, path, us);
                if (us.isDir()) walk(path, null, u, h);
                continue;
            }
            i++;
            Path l = lowerDir.resolve(name);
            FileStat ls = FileStat.lstat(l);
            if (!sameFile(l, ls, u, us)) h.handle(Kind.MODIFY, path, us);
            else if (us.isLinked()) h.handle(Kind.UNMODIFIED, path, us);
            if (us.isDir()) walk(path, ls.isDir() ? l : null, u, h);
        }
    }

    private static List<String> names(Path dir) throws IOException {
        List<String> names = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) names.add(p.getFileName().toString());
        }
        names.sort(null);
        return names;
    }

    static boolean sameFile(Path l, FileStat ls, Path u, FileStat us) throws IOException {
        if (ls.dev() == us.dev() && ls.ino() == us.ino()) return true;
        if (ls.mode() != us.mode() || ls.uid() != us.uid() || ls.gid() != us.gid() || ls.rdev() != us.rdev()) return false;
        if (!Arrays.equals(capability(l), capability(u))) return false;
        if (us.isDir()) return true;
        if (ls.size() != us.size()) return false;
        long s1 = Math.floorDiv(ls.mtimeNanos(), 1_000_000_000L), n1 = Math.floorMod(ls.mtimeNanos(), 1_000_000_000L);
        long s2 = Math.floorDiv(us.mtimeNanos(), 1_000_000_000L), n2 = Math.floorMod(us.mtimeNanos(), 1_000_000_000L);
        if (s1 != s2) return false;
        if (n1 == 0 && n2 == 0) {
            if (us.isSymlink()) return ArchiveSyscalls.readlink(l).equals(ArchiveSyscalls.readlink(u));
            if (us.size() == 0) return true;
            return sameContent(l, u);
        }
        return n1 == n2;
    }

    static byte[] capability(Path p) throws IOException {
        return ArchiveSyscalls.lgetxattr(p, "security.capability");
    }

    private static boolean sameContent(Path a, Path b) throws IOException {
        try (InputStream x = Files.newInputStream(a, LinkOption.NOFOLLOW_LINKS);
             InputStream y = Files.newInputStream(b, LinkOption.NOFOLLOW_LINKS)) {
            byte[] bx = new byte[32 * 1024], by = new byte[32 * 1024];
            while (true) {
                int nx = x.readNBytes(bx, 0, bx.length);
                int ny = y.readNBytes(by, 0, by.length);
                if (nx != ny || !Arrays.equals(bx, 0, nx, by, 0, ny)) return false;
                if (nx < bx.length) return true;
            }
        }
    }
}
