package io.jcontainerd.archive;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Map;

/** What lstat(2) reports about one file, as far as archives care. Times are nanoseconds since the epoch. */
public record FileStat(int mode, long ino, long dev, long rdev, int nlink, int uid, int gid, long size,
                       long atimeNanos, long mtimeNanos) {
    public static final int S_IFMT = 0170000;
    public static final int S_IFSOCK = 0140000;
    public static final int S_IFLNK = 0120000;
    public static final int S_IFREG = 0100000;
    public static final int S_IFBLK = 0060000;
    public static final int S_IFDIR = 0040000;
    public static final int S_IFCHR = 0020000;
    public static final int S_IFIFO = 0010000;

    private static final String ATTRS = "unix:mode,ino,dev,rdev,nlink,uid,gid,size,lastAccessTime,lastModifiedTime";

    /** lstat: never follows a final symlink. */
    public static FileStat lstat(Path p) throws IOException {
        Map<String, Object> m = Files.readAttributes(p, ATTRS, LinkOption.NOFOLLOW_LINKS);
        return new FileStat((Integer) m.get("mode"), (Long) m.get("ino"), (Long) m.get("dev"), (Long) m.get("rdev"),
                (Integer) m.get("nlink"), (Integer) m.get("uid"), (Integer) m.get("gid"), (Long) m.get("size"),
                nanos((FileTime) m.get("lastAccessTime")), nanos((FileTime) m.get("lastModifiedTime")));
    }

    /** lstat, or null when nothing is there. */
    public static FileStat lstatOrNull(Path p) throws IOException {
        try {
            return lstat(p);
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    static long nanos(FileTime t) {
        var i = t.toInstant();
        try {
            return Math.addExact(Math.multiplyExact(i.getEpochSecond(), 1_000_000_000L), i.getNano());
        } catch (ArithmeticException e) {
            return i.getEpochSecond() < 0 ? Long.MIN_VALUE : Long.MAX_VALUE;
        }
    }

    public int type() {
        return mode & S_IFMT;
    }

    public int perm() {
        return mode & 07777;
    }

    public boolean isDir() {
        return type() == S_IFDIR;
    }

    public boolean isRegular() {
        return type() == S_IFREG;
    }

    public boolean isSymlink() {
        return type() == S_IFLNK;
    }

    public boolean isDevice() {
        return type() == S_IFCHR || type() == S_IFBLK;
    }

    /** A non-directory with more than one name: a hardlink candidate for diffs. */
    public boolean isLinked() {
        return !isDir() && nlink > 1;
    }
}
