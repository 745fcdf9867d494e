package io.jcontainerd.snapshots.nativesnap;

import io.jcontainerd.sys.ErrnoException;
import io.jcontainerd.sys.Libc;
import io.jcontainerd.sys.Stat;
import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;

/**
 * Copies a directory tree exactly: regular files (contents via the JDK's in-kernel copy), directories,
 * symlinks, devices, fifos and sockets, with owners, all mode bits, extended attributes and
 * timestamps; files hard-linked together stay hard-linked. The root's own metadata is copied too.
 * Extended attributes that cannot be set (e.g. a namespace the target refuses) are skipped, as
 * containerd's native snapshotter does.
 */
final class TreeCopier {
    private TreeCopier() {}

    private record InodeKey(int devMajor, int devMinor, long ino) {}

    /** Copies the tree under {@code src} into existing directory {@code dst}. */
    static void copy(Path src, Path dst) throws IOException {
        Map<InodeKey, Path> links = new HashMap<>();
        Deque<Stat> dirStats = new ArrayDeque<>();
        Files.walkFileTree(src, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                Stat st = Libc.lstat(dir.toString());
                Path target = dst.resolve(src.relativize(dir).toString());
                if (!dir.equals(src)) Files.createDirectory(target);
                dirStats.push(st);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Stat st = Libc.lstat(file.toString());
                Path target = dst.resolve(src.relativize(file).toString());
                if (st.nlink() > 1) {
                    InodeKey key = new InodeKey(st.devMajor(), st.devMinor(), st.ino());
                    Path first = links.get(key);
                    if (first != null) {
                        Files.createLink(target, first);
                        return FileVisitResult.CONTINUE;
                    }
                    links.put(key, target);
                }
                String t = target.toString();
                if (st.isRegular()) {
                    Files.copy(file, target, StandardCopyOption.REPLACE_EXISTING, LinkOption.NOFOLLOW_LINKS);
                } else if (st.isSymlink()) {
                    Files.createSymbolicLink(target, Files.readSymbolicLink(file));
                } else if (st.isSpecial()) {
                    Libc.mknod(t, st.mode(), st.rdev());
                } else {
                    throw new IOException("unsupported file type " + Integer.toOctalString(st.type()) + " at " + file);
                }
                applyMetadata(file.toString(), t, st);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
                if (e != null) throw e;
                Path target = dst.resolve(src.relativize(dir).toString());
                // times last, after the entries below were created
                applyMetadata(dir.toString(), target.toString(), dirStats.pop());
                return FileVisitResult.CONTINUE;
            }
        });
    }

    /** Owner first (chown clears setuid/setgid), then mode, xattrs, and times last. */
    private static void applyMetadata(String src, String dst, Stat st) throws IOException {
        Libc.lchown(dst, st.uid(), st.gid());
        if (!st.isSymlink()) Libc.chmod(dst, st.permissions());
        copyXattrs(src, dst);
        Libc.lutimes(dst, st.atimeSec(), st.atimeNsec(), st.mtimeSec(), st.mtimeNsec());
    }

    private static void copyXattrs(String src, String dst) {
        try {
            for (String name : Libc.llistxattr(src)) {
                try {
                    byte[] v = Libc.lgetxattr(src, name);
                    if (v != null) Libc.lsetxattr(dst, name, v);
                } catch (ErrnoException e) {
                    System.getLogger(TreeCopier.class.getName()).log(System.Logger.Level.DEBUG,
                            "failed to copy xattr " + name + " to " + dst + ": " + e.getMessage());
                }
            }
        } catch (ErrnoException e) {
            if (e.errno() != Libc.EOPNOTSUPP) {
                System.getLogger(TreeCopier.class.getName()).log(System.Logger.Level.DEBUG,
                        "failed to list xattrs of " + src + ": " + e.getMessage());
            }
        }
    }
}
