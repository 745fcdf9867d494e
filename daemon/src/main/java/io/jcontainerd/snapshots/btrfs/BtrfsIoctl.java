package io.jcontainerd.snapshots.btrfs;

import io.jcontainerd.sys.ErrnoException;
import io.jcontainerd.sys.Libc;
import io.jcontainerd.sys.Stat;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Btrfs subvolume operations through ioctls on directory descriptors (no {@code btrfs} command):
 * create, snapshot (optionally read-only), destroy, and the subvolume id of a path.
 */
final class BtrfsIoctl {
    private BtrfsIoctl() {}

    static final long BTRFS_SUPER_MAGIC = 0x9123683eL;
    /** The inode number of every subvolume's root directory. */
    static final long FIRST_FREE_OBJECTID = 256;

    private static final int ARGS_SIZE = 4096;
    private static final int VOL_NAME_MAX = 4087;       // btrfs_ioctl_vol_args.name[4088], NUL included
    private static final int SUBVOL_NAME_MAX = 4039;    // btrfs_ioctl_vol_args_v2.name[4040]
    private static final long SUBVOL_RDONLY = 1L << 1;

    private static long iow(int nr, int size) {
        return (1L << 30) | ((long) size << 16) | (0x94L << 8) | nr;
    }

    private static long iowr(int nr, int size) {
        return (3L << 30) | ((long) size << 16) | (0x94L << 8) | nr;
    }

    static final long SNAP_CREATE_V2 = iow(23, ARGS_SIZE);
    static final long SUBVOL_CREATE = iow(14, ARGS_SIZE);
    static final long SNAP_DESTROY = iow(15, ARGS_SIZE);
    static final long INO_LOOKUP = iowr(18, ARGS_SIZE);

    /** Creates an empty subvolume at {@code target}. */
    static void create(Path target) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment args = arena.allocate(ARGS_SIZE, 8);
            putName(args, 8, target.getFileName().toString(), VOL_NAME_MAX);
            int dirfd = openDir(target.getParent());
            try {
                Libc.ioctl(dirfd, SUBVOL_CREATE, args, "BTRFS_IOC_SUBVOL_CREATE " + target);
            } finally {
                Libc.close(dirfd);
            }
        }
    }

    /** Snapshots subvolume {@code source} as {@code target}, read-only if asked. */
    static void snapshot(Path source, Path target, boolean readonly) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            int srcfd = openDir(source);
            try {
                int dirfd = openDir(target.getParent());
                try {
                    MemorySegment args = arena.allocate(ARGS_SIZE, 8);
                    args.set(JAVA_LONG, 0, srcfd);                      // fd
                    args.set(JAVA_LONG, 16, readonly ? SUBVOL_RDONLY : 0); // flags
                    putName(args, 56, target.getFileName().toString(), SUBVOL_NAME_MAX);
                    Libc.ioctl(dirfd, SNAP_CREATE_V2, args, "BTRFS_IOC_SNAP_CREATE_V2 " + source + " -> " + target);
                } finally {
                    Libc.close(dirfd);
                }
            } finally {
                Libc.close(srcfd);
            }
        }
    }

    /**
     * Destroys subvolume {@code target}. Subvolumes nested inside it (created by whatever ran in the
     * snapshot) are destroyed first, deepest first.
     */
    static void delete(Path target) throws IOException {
        try {
            destroy(target);
        } catch (ErrnoException e) {
            if (e.errno() != Libc.ENOTEMPTY) throw e;
            List<Path> nested = nestedSubvolumes(target);
            nested.sort(Comparator.comparingInt(Path::getNameCount).reversed());
            for (Path n : nested) destroy(n);
            destroy(target);
        }
    }

    private static void destroy(Path target) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment args = arena.allocate(ARGS_SIZE, 8);
            putName(args, 8, target.getFileName().toString(), VOL_NAME_MAX);
            int dirfd = openDir(target.getParent());
            try {
                Libc.ioctl(dirfd, SNAP_DESTROY, args, "BTRFS_IOC_SNAP_DESTROY " + target);
            } finally {
                Libc.close(dirfd);
            }
        }
    }

    private static List<Path> nestedSubvolumes(Path root) throws IOException {
        List<Path> out = new ArrayList<>();
        try (var walk = Files.walk(root)) {
            for (Path p : walk.skip(1).toList()) {
                if (isSubvolume(p)) out.add(p);
            }
        }
        return out;
    }

    /** Whether {@code p} is the root directory of a subvolume. */
    static boolean isSubvolume(Path p) throws IOException {
        Stat st = Libc.lstat(p.toString());
        return st.isDirectory() && st.ino() == FIRST_FREE_OBJECTID;
    }

    /** The id of the subvolume {@code dir} belongs to. */
    static long subvolumeId(Path dir) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment args = arena.allocate(ARGS_SIZE, 8);
            args.set(JAVA_LONG, 0, 0);                    // treeid: 0 = the fd's subvolume
            args.set(JAVA_LONG, 8, FIRST_FREE_OBJECTID);  // objectid
            int fd = openDir(dir);
            try {
                Libc.ioctl(fd, INO_LOOKUP, args, "BTRFS_IOC_INO_LOOKUP " + dir);
            } finally {
                Libc.close(fd);
            }
            return args.get(JAVA_LONG, 0);
        }
    }

    private static int openDir(Path dir) throws ErrnoException {
        return Libc.open(dir.toString(), Libc.O_RDONLY | Libc.O_DIRECTORY);
    }

    private static void putName(MemorySegment args, long offset, String name, int max) throws IOException {
        byte[] b = name.getBytes(StandardCharsets.UTF_8);
        if (b.length > max) throw new IOException("subvolume name too long: " + name);
        MemorySegment.copy(b, 0, args, JAVA_BYTE, offset, b.length);
    }
}
