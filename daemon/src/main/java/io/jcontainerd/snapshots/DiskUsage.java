package io.jcontainerd.snapshots;

import io.jcontainerd.sys.Libc;
import io.jcontainerd.sys.Stat;
import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashSet;
import java.util.Set;

/**
 * Disk usage as containerd reports it: the allocated bytes (st_blocks × 512) and the number of
 * distinct inodes of every entry under a root, the root included, hard links counted once.
 */
public final class DiskUsage {
    private DiskUsage() {}

    private record InodeKey(int devMajor, int devMinor, long ino) {}

    /** Usage of everything under {@code root}. */
    public static Usage of(Path root) throws IOException {
        Set<InodeKey> seen = new HashSet<>();
        long[] size = {0};
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                count(dir);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                count(file);
                return FileVisitResult.CONTINUE;
            }

            private void count(Path p) throws IOException {
                Stat st = Libc.lstat(p.toString());
                if (seen.add(new InodeKey(st.devMajor(), st.devMinor(), st.ino()))) size[0] += st.diskBytes();
            }
        });
        return new Usage(size[0], seen.size());
    }

    /**
     * Usage of what {@code upper} adds or changes relative to {@code lower}, where upper started as a
     * copy-on-write snapshot of lower (btrfs): an entry is unchanged when lower has the same inode
     * with the same ctime, size and mode at the same path, since any write, chmod, chown or xattr
     * change moves ctime.
     */
    public static Usage diff(Path lower, Path upper) throws IOException {
        Set<InodeKey> seen = new HashSet<>();
        long[] size = {0};
        Files.walkFileTree(upper, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                if (!dir.equals(upper)) count(dir);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                count(file);
                return FileVisitResult.CONTINUE;
            }

            private void count(Path p) throws IOException {
                Stat st = Libc.lstat(p.toString());
                Path other = lower.resolve(upper.relativize(p));
                Stat before = null;
                try {
                    before = Libc.lstat(other.toString());
                } catch (io.jcontainerd.sys.ErrnoException e) {
                    if (e.errno() != Libc.ENOENT && e.errno() != Libc.ENOTDIR) throw e;
                }
                boolean same = before != null && before.ino() == st.ino() && before.ctimeSec() == st.ctimeSec()
                        && before.ctimeNsec() == st.ctimeNsec() && before.size() == st.size() && before.mode() == st.mode();
                if (!same && seen.add(new InodeKey(st.devMajor(), st.devMinor(), st.ino()))) size[0] += st.diskBytes();
            }
        });
        return new Usage(size[0], seen.size());
    }
}
