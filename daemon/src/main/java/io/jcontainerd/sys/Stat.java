package io.jcontainerd.sys;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * What statx(2) reports about a file, in the architecture-independent statx layout. {@code mode}
 * holds the type bits and the 12 permission bits; devices are major/minor pairs.
 */
public record Stat(int mode, int uid, int gid, int nlink, long ino, long size, long blocks,
                   long atimeSec, int atimeNsec, long mtimeSec, int mtimeNsec, long ctimeSec, int ctimeNsec,
                   int rdevMajor, int rdevMinor, int devMajor, int devMinor) {

    static final long STATX_SIZE = 256;

    public static final int S_IFMT = 0170000;
    public static final int S_IFSOCK = 0140000;
    public static final int S_IFLNK = 0120000;
    public static final int S_IFREG = 0100000;
    public static final int S_IFBLK = 0060000;
    public static final int S_IFDIR = 0040000;
    public static final int S_IFCHR = 0020000;
    public static final int S_IFIFO = 0010000;

    static Stat fromStatx(MemorySegment b) {
        return new Stat(
                Short.toUnsignedInt(b.get(JAVA_SHORT, 28)),
                b.get(JAVA_INT, 20), b.get(JAVA_INT, 24), b.get(JAVA_INT, 16),
                b.get(JAVA_LONG, 32), b.get(JAVA_LONG, 40), b.get(JAVA_LONG, 48),
                b.get(JAVA_LONG, 64), b.get(JAVA_INT, 72),
                b.get(JAVA_LONG, 112), b.get(JAVA_INT, 120),
                b.get(JAVA_LONG, 96), b.get(JAVA_INT, 104),
                b.get(JAVA_INT, 128), b.get(JAVA_INT, 132),
                b.get(JAVA_INT, 136), b.get(JAVA_INT, 140));
    }

    public int type() {
        return mode & S_IFMT;
    }

    public int permissions() {
        return mode & 07777;
    }

    public boolean isDirectory() {
        return type() == S_IFDIR;
    }

    public boolean isRegular() {
        return type() == S_IFREG;
    }

    public boolean isSymlink() {
        return type() == S_IFLNK;
    }

    /** Character or block device, fifo or socket: what mknod creates. */
    public boolean isSpecial() {
        int t = type();
        return t == S_IFCHR || t == S_IFBLK || t == S_IFIFO || t == S_IFSOCK;
    }

    /** The overlay whiteout: a character device 0/0. */
    public boolean isWhiteout() {
        return type() == S_IFCHR && rdevMajor == 0 && rdevMinor == 0;
    }

    public long rdev() {
        return Libc.makedev(Integer.toUnsignedLong(rdevMajor), Integer.toUnsignedLong(rdevMinor));
    }

    /** Bytes allocated on disk (st_blocks is in 512-byte units). */
    public long diskBytes() {
        return blocks * 512;
    }
}
