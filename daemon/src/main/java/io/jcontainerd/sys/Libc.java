package io.jcontainerd.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The libc calls the daemon needs, through FFM downcalls that capture errno. Each group of handles
 * lives in its own holder class, created on first use, so that processes which never mount or copy
 * trees pay nothing for them. Failures throw {@link ErrnoException} naming the call and its path.
 */
public final class Libc {
    private Libc() {}

    // errno values (Linux, all architectures the daemon runs on)
    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int EBADF = 9;
    public static final int EACCES = 13;
    public static final int EBUSY = 16;
    public static final int EEXIST = 17;
    public static final int EXDEV = 18;
    public static final int ENOTDIR = 20;
    public static final int EINVAL = 22;
    public static final int ERANGE = 34;
    public static final int ENOSYS = 38;
    public static final int ENOTEMPTY = 39;
    public static final int ENODATA = 61;
    public static final int EOPNOTSUPP = 95;

    // umount2(2)
    public static final int MNT_FORCE = 1;
    public static final int MNT_DETACH = 2;

    // mount(2) flags
    public static final long MS_RDONLY = 1;
    public static final long MS_NOSUID = 2;
    public static final long MS_NODEV = 4;
    public static final long MS_NOEXEC = 8;
    public static final long MS_SYNCHRONOUS = 16;
    public static final long MS_REMOUNT = 32;
    public static final long MS_MANDLOCK = 64;
    public static final long MS_DIRSYNC = 128;
    public static final long MS_NOSYMFOLLOW = 256;
    public static final long MS_NOATIME = 1024;
    public static final long MS_NODIRATIME = 2048;
    public static final long MS_BIND = 4096;
    public static final long MS_REC = 16384;
    public static final long MS_SILENT = 32768;
    public static final long MS_UNBINDABLE = 1L << 17;
    public static final long MS_PRIVATE = 1L << 18;
    public static final long MS_SLAVE = 1L << 19;
    public static final long MS_SHARED = 1L << 20;
    public static final long MS_RELATIME = 1L << 21;
    public static final long MS_STRICTATIME = 1L << 24;

    // the new mount API (fsopen/fsconfig/fsmount/move_mount, Linux 5.2+)
    public static final int FSOPEN_CLOEXEC = 1;
    public static final int FSCONFIG_SET_FLAG = 0;
    public static final int FSCONFIG_SET_STRING = 1;
    public static final int FSCONFIG_CMD_CREATE = 6;
    public static final int FSMOUNT_CLOEXEC = 1;
    public static final int MOUNT_ATTR_RDONLY = 0x1;
    public static final int MOUNT_ATTR_NOSUID = 0x2;
    public static final int MOUNT_ATTR_NODEV = 0x4;
    public static final int MOUNT_ATTR_NOEXEC = 0x8;
    public static final int MOUNT_ATTR_NOATIME = 0x10;
    public static final int MOUNT_ATTR_STRICTATIME = 0x20;
    public static final int MOUNT_ATTR_NODIRATIME = 0x80;
    public static final int MOUNT_ATTR_NOSYMFOLLOW = 0x200000;
    public static final int MOVE_MOUNT_F_EMPTY_PATH = 0x4;

    // open(2)
    public static final int O_RDONLY = 0;
    public static final int O_DIRECTORY = 0x10000;
    public static final int O_NOFOLLOW = 0x20000;
    public static final int O_CLOEXEC = 0x80000;
    public static final int O_PATH = 0x200000;

    static final int AT_FDCWD = -100;
    static final int AT_SYMLINK_NOFOLLOW = 0x100;
    static final int STATX_BASIC_STATS = 0x7ff;

    /** Linker, errno capture and symbol lookup shared by all holders. */
    private static final class Base {
        static final Linker LINKER = Linker.nativeLinker();
        static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
        static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));

        static MethodHandle find(String name, FunctionDescriptor fd, Linker.Option... extra) {
            return LINKER.defaultLookup().find(name)
                    .map(addr -> LINKER.downcallHandle(addr, fd, withCapture(extra)))
                    .orElse(null);
        }

        private static Linker.Option[] withCapture(Linker.Option... extra) {
            Linker.Option[] all = new Linker.Option[extra.length + 1];
            all[0] = Linker.Option.captureCallState("errno");
            System.arraycopy(extra, 0, all, 1, extra.length);
            return all;
        }
    }

    private static final class MountCalls {
        static final MethodHandle UMOUNT2 = Base.find("umount2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        static final MethodHandle MOUNT = Base.find("mount",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS));
        static final MethodHandle STATFS = Base.find("statfs", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    }

    private static final class NewMountCalls {
        static final MethodHandle FSOPEN = Base.find("fsopen", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        static final MethodHandle FSCONFIG = Base.find("fsconfig",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
        static final MethodHandle FSMOUNT = Base.find("fsmount", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
        static final MethodHandle MOVE_MOUNT = Base.find("move_mount",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT));
    }

    private static final class FileCalls {
        static final MethodHandle STATX = Base.find("statx",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS));
        static final MethodHandle MKNOD = Base.find("mknod", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG));
        static final MethodHandle LCHOWN = Base.find("lchown", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        static final MethodHandle CHMOD = Base.find("chmod", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        static final MethodHandle UTIMENSAT = Base.find("utimensat",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
        static final MethodHandle OPEN = Base.find("open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
                Linker.Option.firstVariadicArg(2));
        static final MethodHandle CLOSE = Base.find("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        static final MethodHandle FDATASYNC = Base.find("fdatasync", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        static final MethodHandle IOCTL = Base.find("ioctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS),
                Linker.Option.firstVariadicArg(2));
    }

    private static final class XattrCalls {
        static final MethodHandle LGETXATTR = Base.find("lgetxattr",
                FunctionDescriptor.of(JAVA_LONG, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG));
        static final MethodHandle LSETXATTR = Base.find("lsetxattr",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT));
        static final MethodHandle LLISTXATTR = Base.find("llistxattr",
                FunctionDescriptor.of(JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG));
    }

    private static ErrnoException error(String call, MemorySegment state) {
        return new ErrnoException(call, (int) Base.ERRNO.get(state, 0L));
    }

    private static IllegalStateException unexpected(String call, Throwable t) {
        return new IllegalStateException(call + ": " + t, t);
    }

    private static MemorySegment cstr(Arena arena, String s) {
        return s == null ? MemorySegment.NULL : arena.allocateFrom(s);
    }

    // ---- mounts ----

    /** umount2(2). */
    public static void umount2(String target, int flags) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Base.CAPTURE);
            int rc = (int) MountCalls.UMOUNT2.invokeExact(state, arena.allocateFrom(target), flags);
            if (rc != 0) throw error("umount2 " + target, state);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("umount2", t);
        }
    }

    /** mount(2); a null or empty {@code data} passes NULL, as Go's unix.Mount does. */
    public static void mount(String source, String target, String fstype, long flags, String data) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Base.CAPTURE);
            MemorySegment d = data == null || data.isEmpty() ? MemorySegment.NULL : arena.allocateFrom(data);
            int rc = (int) MountCalls.MOUNT.invokeExact(state, cstr(arena, source), arena.allocateFrom(target),
                    cstr(arena, fstype), flags, d);
            if (rc != 0) throw error("mount " + target, state);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("mount", t);
        }
    }

    /** statfs(2)'s f_type: the filesystem's magic number (e.g. 0x9123683e for btrfs). */
    public static long statfsType(String path) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Base.CAPTURE);
            MemorySegment buf = arena.allocate(256, 8); // struct statfs is 120 bytes on 64-bit Linux
            int rc = (int) MountCalls.STATFS.invokeExact(state, arena.allocateFrom(path), buf);
            if (rc != 0) throw error("statfs " + path, state);
            return buf.get(JAVA_LONG, 0);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("statfs", t);
        }
    }

    /** Whether libc exposes fsopen, fsconfig, fsmount and move_mount. */
    public static boolean hasNewMountApi() {
        return NewMountCalls.FSOPEN != null && NewMountCalls.FSCONFIG != null
                && NewMountCalls.FSMOUNT != null && NewMountCalls.MOVE_MOUNT != null;
    }

    /** fsopen(2): a filesystem context fd. */
    public static int fsopen(String fsname, int flags) throws ErrnoException {
        if (NewMountCalls.FSOPEN == null) throw new ErrnoException("fsopen", ENOSYS);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Base.CAPTURE);
            int fd = (int) NewMountCalls.FSOPEN.invokeExact(state, arena.allocateFrom(fsname), flags);
            if (fd < 0) throw error("fsopen " + fsname, state);
            return fd;
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("fsopen", t);
        }
    }

    /** fsconfig(2) with a string key and an optional string value (null for flags and commands). */
    public static void fsconfig(int fd, int cmd, String key, String value) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Base.CAPTURE);
            int rc = (int) NewMountCalls.FSCONFIG.invokeExact(state, fd, cmd, cstr(arena, key), cstr(arena, value), 0);
            if (rc != 0) throw error("fsconfig " + (key == null ? "cmd " + cmd : key + (value == null ? "" : "=" + value)), state);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("fsconfig", t);
        }
    }

    /** fsmount(2): a detached mount fd for a created filesystem context. */
    public static int fsmount(int fsfd, int flags, int attrFlags) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Base.CAPTURE);
            int fd = (int) NewMountCalls.FSMOUNT.invokeExact(state, fsfd, flags, attrFlags);
            if (fd < 0) throw error("fsmount", state);
            return fd;
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("fsmount", t);
        }
    }

    /** move_mount(2) of a detached mount fd onto {@code target}. */
    public static void moveMount(int mountFd, String target) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Base.CAPTURE);
            int rc = (int) NewMountCalls.MOVE_MOUNT.invokeExact(state, mountFd, arena.allocateFrom(""), AT_FDCWD,
                    arena.allocateFrom(target), MOVE_MOUNT_F_EMPTY_PATH);
            if (rc != 0) throw error("move_mount " + target, state);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("move_mount", t);
        }
    }

    // ---- files ----

    /** statx(2) without following a final symlink. */
    public static Stat lstat(String path) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Base.CAPTURE);
            MemorySegment buf = arena.allocate(Stat.STATX_SIZE, 8);
            int rc = (int) FileCalls.STATX.invokeExact(state, AT_FDCWD, arena.allocateFrom(path),
                    AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, buf);
            if (rc != 0) throw error("statx " + path, state);
            return Stat.fromStatx(buf);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("statx", t);
        }
    }

    /** mknod(2): {@code mode} includes the file type bits. */
    public static void mknod(String path, int mode, long dev) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Base.CAPTURE);
            int rc = (int) FileCalls.MKNOD.invokeExact(state, arena.allocateFrom(path), mode, dev);
            if (rc != 0) throw error("mknod " + path, state);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("mknod", t);
        }
    }

    /** lchown(2). */
    public static void lchown(String path, int uid, int gid) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Base.CAPTURE);
            int rc = (int) FileCalls.LCHOWN.invokeExact(state, arena.allocateFrom(path), uid, gid);
            if (rc != 0) throw error("lchown " + path, state);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("lchown", t);
        }
    }

    /** chmod(2) with all 12 permission bits (setuid, setgid and sticky included). */
    public static void chmod(String path, int mode) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Base.CAPTURE);
            int rc = (int) FileCalls.CHMOD.invokeExact(state, arena.allocateFrom(path), mode & 07777);
            if (rc != 0) throw error("chmod " + path, state);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("chmod", t);
        }
    }

    /** utimensat(2) on the path itself (symlinks included): access and modification times. */
    public static void lutimes(String path, long atimeSec, int atimeNsec, long mtimeSec, int mtimeNsec) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Base.CAPTURE);
            MemorySegment ts = arena.allocate(32, 8);
            ts.set(JAVA_LONG, 0, atimeSec);
            ts.set(JAVA_LONG, 8, atimeNsec);
            ts.set(JAVA_LONG, 16, mtimeSec);
            ts.set(JAVA_LONG, 24, mtimeNsec);
            int rc = (int) FileCalls.UTIMENSAT.invokeExact(state, AT_FDCWD, arena.allocateFrom(path), ts, AT_SYMLINK_NOFOLLOW);
            if (rc != 0) throw error("utimensat " + path, state);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("utimensat", t);
        }
    }

    /** open(2); returns the fd, which the caller must {@link #close}. */
    public static int open(String path, int flags) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Base.CAPTURE);
            int fd = (int) FileCalls.OPEN.invokeExact(state, arena.allocateFrom(path), flags | O_CLOEXEC, 0);
            if (fd < 0) throw error("open " + path, state);
            return fd;
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("open", t);
        }
    }

    /** close(2); errors are ignored, as there is nothing useful to do about them. */
    public static void close(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Base.CAPTURE);
            int ignored = (int) FileCalls.CLOSE.invokeExact(state, fd);
        } catch (Throwable t) {
            throw unexpected("close", t);
        }
    }

    /** fdatasync(2): the file's data (and the metadata needed to read it back) reach the disk. */
    public static void fdatasync(int fd, String what) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Base.CAPTURE);
            int rc = (int) FileCalls.FDATASYNC.invokeExact(state, fd);
            if (rc != 0) throw error("fdatasync " + what, state);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("fdatasync", t);
        }
    }

    /** ioctl(2) with a pointer argument; returns the (non-negative) result. */
    public static int ioctl(int fd, long request, MemorySegment arg, String what) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Base.CAPTURE);
            int rc = (int) FileCalls.IOCTL.invokeExact(state, fd, request, arg);
            if (rc < 0) throw error("ioctl " + what, state);
            return rc;
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("ioctl", t);
        }
    }

    // ---- extended attributes ----

    /** llistxattr(2): the names of the path's extended attributes (not following symlinks). */
    public static List<String> llistxattr(String path) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Base.CAPTURE);
            MemorySegment p = arena.allocateFrom(path);
            for (int attempt = 0; ; attempt++) {
                long size = (long) XattrCalls.LLISTXATTR.invokeExact(state, p, MemorySegment.NULL, 0L);
                if (size < 0) throw error("llistxattr " + path, state);
                if (size == 0) return List.of();
                MemorySegment buf = arena.allocate(size);
                long n = (long) XattrCalls.LLISTXATTR.invokeExact(state, p, buf, size);
                if (n < 0) {
                    // the list grew between the two calls: ask again
                    if ((int) Base.ERRNO.get(state, 0L) == ERANGE && attempt < 3) continue;
                    throw error("llistxattr " + path, state);
                }
                List<String> names = new ArrayList<>();
                byte[] bytes = buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE);
                int start = 0;
                for (int i = 0; i < bytes.length; i++) {
                    if (bytes[i] == 0) {
                        if (i > start) names.add(new String(bytes, start, i - start, StandardCharsets.UTF_8));
                        start = i + 1;
                    }
                }
                return names;
            }
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("llistxattr", t);
        }
    }

    /** lgetxattr(2): the attribute's value, or null when it does not exist (ENODATA). */
    public static byte[] lgetxattr(String path, String name) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Base.CAPTURE);
            MemorySegment p = arena.allocateFrom(path);
            MemorySegment k = arena.allocateFrom(name);
            for (int attempt = 0; ; attempt++) {
                long size = (long) XattrCalls.LGETXATTR.invokeExact(state, p, k, MemorySegment.NULL, 0L);
                if (size < 0) {
                    if ((int) Base.ERRNO.get(state, 0L) == ENODATA) return null;
                    throw error("lgetxattr " + path + " " + name, state);
                }
                if (size == 0) return new byte[0];
                MemorySegment buf = arena.allocate(size);
                long n = (long) XattrCalls.LGETXATTR.invokeExact(state, p, k, buf, size);
                if (n < 0) {
                    int errno = (int) Base.ERRNO.get(state, 0L);
                    if (errno == ERANGE && attempt < 3) continue;
                    if (errno == ENODATA) return null;
                    throw error("lgetxattr " + path + " " + name, state);
                }
                return buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE);
            }
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("lgetxattr", t);
        }
    }

    /** lsetxattr(2) with flags 0 (create or replace). */
    public static void lsetxattr(String path, String name, byte[] value) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Base.CAPTURE);
            MemorySegment v = value.length == 0 ? arena.allocate(1) : arena.allocateFrom(ValueLayout.JAVA_BYTE, value);
            int rc = (int) XattrCalls.LSETXATTR.invokeExact(state, arena.allocateFrom(path), arena.allocateFrom(name),
                    v, (long) value.length, 0);
            if (rc != 0) throw error("lsetxattr " + path + " " + name, state);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("lsetxattr", t);
        }
    }

    /** glibc's makedev: the dev_t of a major/minor pair. */
    public static long makedev(long major, long minor) {
        return ((major & 0xfffff000L) << 32) | ((major & 0xfffL) << 8)
                | ((minor & 0xffffff00L) << 12) | (minor & 0xffL);
    }
}
