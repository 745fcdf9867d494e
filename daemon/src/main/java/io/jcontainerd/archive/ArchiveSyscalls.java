package io.jcontainerd.archive;

import io.jcontainerd.sys.ErrnoException;
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
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The few libc calls that archive apply and diff need and the JDK does not offer without following
 * symlinks or dropping mode bits: mknod, lchown, fchmodat(NOFOLLOW), utimensat(NOFOLLOW), l*xattr,
 * and symlink/readlink with exact (unnormalized) targets. Handles are created on first use.
 */
public final class ArchiveSyscalls {
    private ArchiveSyscalls() {}

    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int EEXIST = 17;
    public static final int ERANGE = 34;
    public static final int ENODATA = 61;
    public static final int ENOTSUP = 95;

    public static final int S_IFIFO = 0010000;
    public static final int S_IFCHR = 0020000;
    public static final int S_IFBLK = 0060000;

    static final int AT_FDCWD = -100;
    static final int AT_SYMLINK_NOFOLLOW = 0x100;
    static final int XATTR_CREATE = 1;

    private static final class H {
        static final Linker LINKER = Linker.nativeLinker();
        static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
        static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
        static final ValueLayout.OfInt I = ValueLayout.JAVA_INT;
        static final ValueLayout.OfLong L = ValueLayout.JAVA_LONG;
        static final ValueLayout P = ValueLayout.ADDRESS;

        static final MethodHandle MKNOD = handle("mknod", FunctionDescriptor.of(I, P, I, L));
        static final MethodHandle LCHOWN = handle("lchown", FunctionDescriptor.of(I, P, I, I));
        static final MethodHandle FCHMODAT = handle("fchmodat", FunctionDescriptor.of(I, I, P, I, I));
        static final MethodHandle UTIMENSAT = handle("utimensat", FunctionDescriptor.of(I, I, P, P, I));
        static final MethodHandle LSETXATTR = handle("lsetxattr", FunctionDescriptor.of(I, P, P, P, L, I));
        static final MethodHandle LGETXATTR = handle("lgetxattr", FunctionDescriptor.of(L, P, P, P, L));
        static final MethodHandle LLISTXATTR = handle("llistxattr", FunctionDescriptor.of(L, P, P, L));
        static final MethodHandle SYMLINK = handle("symlink", FunctionDescriptor.of(I, P, P));
        static final MethodHandle READLINK = handle("readlink", FunctionDescriptor.of(L, P, P, L));

        static MethodHandle handle(String name, FunctionDescriptor fd) {
            return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), fd,
                    Linker.Option.captureCallState("errno"));
        }

        static int errno(MemorySegment state) {
            return (int) ERRNO.get(state, 0L);
        }
    }

    private static MemorySegment cstr(Arena a, Path p) {
        return a.allocateFrom(p.toString());
    }

    private static RuntimeException unexpected(String call, Throwable t) {
        return new IllegalStateException(call + ": " + t, t);
    }

    /** mknod(2): {@code mode} carries the file type (S_IFCHR, S_IFBLK, S_IFIFO) and permission bits. */
    public static void mknod(Path path, int mode, int major, int minor) throws ErrnoException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(H.CAPTURE);
            int rc = (int) H.MKNOD.invokeExact(st, cstr(a, path), mode, io.jcontainerd.sys.Libc.makedev(major, minor));
            if (rc != 0) throw new ErrnoException("mknod " + path, H.errno(st));
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("mknod", t);
        }
    }

    public static int major(long dev) {
        return (int) (((dev >>> 32) & 0xfffff000L) | ((dev >>> 8) & 0xfffL));
    }

    public static int minor(long dev) {
        return (int) (((dev >>> 12) & 0xffffff00L) | (dev & 0xffL));
    }

    /** lchown(2): never follows a final symlink. */
    public static void lchown(Path path, int uid, int gid) throws ErrnoException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(H.CAPTURE);
            int rc = (int) H.LCHOWN.invokeExact(st, cstr(a, path), uid, gid);
            if (rc != 0) throw new ErrnoException("lchown " + path, H.errno(st));
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("lchown", t);
        }
    }

    /**
     * Sets all 12 permission bits (setuid, setgid, sticky included) without following a final symlink.
     * Linux cannot change a symlink's mode, so callers skip symlinks.
     */
    public static void chmod(Path path, int mode) throws ErrnoException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(H.CAPTURE);
            int rc = (int) H.FCHMODAT.invokeExact(st, AT_FDCWD, cstr(a, path), mode & 07777, AT_SYMLINK_NOFOLLOW);
            if (rc != 0) throw new ErrnoException("chmod " + path, H.errno(st));
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("chmod", t);
        }
    }

    /** utimensat(2) with AT_SYMLINK_NOFOLLOW; times in nanoseconds since the epoch. */
    public static void lutimes(Path path, long atimeNanos, long mtimeNanos) throws ErrnoException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(H.CAPTURE);
            MemorySegment ts = a.allocate(ValueLayout.JAVA_LONG, 4);
            ts.setAtIndex(ValueLayout.JAVA_LONG, 0, Math.floorDiv(atimeNanos, 1_000_000_000L));
            ts.setAtIndex(ValueLayout.JAVA_LONG, 1, Math.floorMod(atimeNanos, 1_000_000_000L));
            ts.setAtIndex(ValueLayout.JAVA_LONG, 2, Math.floorDiv(mtimeNanos, 1_000_000_000L));
            ts.setAtIndex(ValueLayout.JAVA_LONG, 3, Math.floorMod(mtimeNanos, 1_000_000_000L));
            int rc = (int) H.UTIMENSAT.invokeExact(st, AT_FDCWD, cstr(a, path), ts, AT_SYMLINK_NOFOLLOW);
            if (rc != 0) throw new ErrnoException("utimensat " + path, H.errno(st));
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("utimensat", t);
        }
    }

    /** lsetxattr(2); {@code flags} 0 or XATTR_CREATE. */
    public static void lsetxattr(Path path, String name, byte[] value, int flags) throws ErrnoException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(H.CAPTURE);
            MemorySegment v = a.allocate(Math.max(1, value.length));
            MemorySegment.copy(value, 0, v, ValueLayout.JAVA_BYTE, 0, value.length);
            int rc = (int) H.LSETXATTR.invokeExact(st, cstr(a, path), a.allocateFrom(name), v, (long) value.length, flags);
            if (rc != 0) throw new ErrnoException("lsetxattr " + path + " " + name, H.errno(st));
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("lsetxattr", t);
        }
    }

    /** lgetxattr(2); null when the attribute is absent or xattrs are unsupported (as containerd treats both). */
    public static byte[] lgetxattr(Path path, String name) throws ErrnoException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(H.CAPTURE);
            MemorySegment p = cstr(a, path);
            MemorySegment n = a.allocateFrom(name);
            int size = 256;
            while (true) {
                MemorySegment buf = a.allocate(size);
                long rc = (long) H.LGETXATTR.invokeExact(st, p, n, buf, (long) size);
                if (rc >= 0) return buf.asSlice(0, rc).toArray(ValueLayout.JAVA_BYTE);
                int errno = H.errno(st);
                if (errno == ENODATA || errno == ENOTSUP) return null;
                if (errno != ERANGE || size >= 1 << 20) throw new ErrnoException("lgetxattr " + path + " " + name, errno);
                size *= 8;
            }
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("lgetxattr", t);
        }
    }

    /** llistxattr(2); empty when xattrs are unsupported. */
    public static List<String> llistxattr(Path path) throws ErrnoException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(H.CAPTURE);
            MemorySegment p = cstr(a, path);
            int size = 1024;
            while (true) {
                MemorySegment buf = a.allocate(size);
                long rc = (long) H.LLISTXATTR.invokeExact(st, p, buf, (long) size);
                if (rc >= 0) {
                    List<String> names = new ArrayList<>();
                    byte[] b = buf.asSlice(0, rc).toArray(ValueLayout.JAVA_BYTE);
                    int start = 0;
                    for (int i = 0; i < b.length; i++) {
                        if (b[i] == 0) {
                            if (i > start) names.add(new String(b, start, i - start, StandardCharsets.UTF_8));
                            start = i + 1;
                        }
                    }
                    return names;
                }
                int errno = H.errno(st);
                if (errno == ENOTSUP || errno == ENODATA) return List.of();
                if (errno != ERANGE || size >= 1 << 20) throw new ErrnoException("llistxattr " + path, errno);
                size *= 8;
            }
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("llistxattr", t);
        }
    }

    /** symlink(2) with the target stored byte for byte (java.nio would normalize slashes). */
    public static void symlink(String target, Path link) throws ErrnoException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(H.CAPTURE);
            int rc = (int) H.SYMLINK.invokeExact(st, a.allocateFrom(target), cstr(a, link));
            if (rc != 0) throw new ErrnoException("symlink " + link, H.errno(st));
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("symlink", t);
        }
    }

    /** readlink(2), the target exactly as stored. */
    public static String readlink(Path link) throws ErrnoException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(H.CAPTURE);
            MemorySegment p = cstr(a, link);
            int size = 256;
            while (true) {
                MemorySegment buf = a.allocate(size);
                long rc = (long) H.READLINK.invokeExact(st, p, buf, (long) size);
                if (rc < 0) throw new ErrnoException("readlink " + link, H.errno(st));
                if (rc < size) return new String(buf.asSlice(0, rc).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
                size *= 4;
            }
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("readlink", t);
        }
    }
}
