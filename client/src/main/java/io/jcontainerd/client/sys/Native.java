package io.jcontainerd.client.sys;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * The few libc calls the client needs (mount, FIFOs, terminal modes), as FFM downcalls capturing
 * errno. Handles are built on first use, per group, so commands that never mount or use a terminal
 * pay nothing. Failures throw {@link IOException} with the call, its argument and strerror's text.
 */
public final class Native {
    private Native() {}

    public static final long MS_RDONLY = 1;
    public static final long MS_NOSUID = 2;
    public static final long MS_NODEV = 4;
    public static final long MS_NOEXEC = 8;
    public static final long MS_SYNCHRONOUS = 16;
    public static final long MS_REMOUNT = 32;
    public static final long MS_MANDLOCK = 64;
    public static final long MS_DIRSYNC = 128;
    public static final long MS_NOATIME = 1024;
    public static final long MS_NODIRATIME = 2048;
    public static final long MS_BIND = 4096;
    public static final long MS_REC = 16384;
    public static final long MS_UNBINDABLE = 1L << 17;
    public static final long MS_PRIVATE = 1L << 18;
    public static final long MS_SLAVE = 1L << 19;
    public static final long MS_SHARED = 1L << 20;
    public static final long MS_RELATIME = 1L << 21;
    public static final long MS_STRICTATIME = 1L << 24;

    public static final int MNT_DETACH = 2;
    public static final int EINVAL = 22;
    public static final int ENOENT = 2;
    public static final int EBUSY = 16;
    public static final int EEXIST = 17;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(java.lang.foreign.MemoryLayout.PathElement.groupElement("errno"));

    private static MethodHandle handle(String name, FunctionDescriptor fd) {
        return LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow(name), fd, Linker.Option.captureCallState("errno"));
    }

    private static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    /** An errno-carrying failure of a libc call. */
    public static final class ErrnoException extends IOException {
        private final int errno;

        ErrnoException(String call, String arg, int errno) {
            super(call + " " + arg + ": " + strerror(errno));
            this.errno = errno;
        }

        public int errno() {
            return errno;
        }
    }

    private static final class Calls {
        static final MethodHandle MOUNT = handle("mount", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS));
        static final MethodHandle UMOUNT2 = handle("umount2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        static final MethodHandle MKFIFO = handle("mkfifo", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        static final MethodHandle STRERROR = LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow("strerror"),
                FunctionDescriptor.of(ADDRESS.withTargetLayout(java.lang.foreign.MemoryLayout.sequenceLayout(256, java.lang.foreign.ValueLayout.JAVA_BYTE)), JAVA_INT));
    }

    private static final class Tty {
        static final MethodHandle ISATTY = LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow("isatty"), FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        static final MethodHandle TCGETATTR = handle("tcgetattr", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
        static final MethodHandle TCSETATTR = handle("tcsetattr", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
        static final MethodHandle CFMAKERAW = LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow("cfmakeraw"), FunctionDescriptor.ofVoid(ADDRESS));
        static final MethodHandle IOCTL = handle("ioctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS));
    }

    static String strerror(int errno) {
        try {
            MemorySegment s = (MemorySegment) Calls.STRERROR.invokeExact(errno);
            return s.getString(0);
        } catch (Throwable t) {
            return "errno " + errno;
        }
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new IllegalStateException(t);
    }

    /** mount(2); {@code data} may be null. */
    public static void mount(String source, String target, String type, long flags, String data) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CALL_STATE);
            MemorySegment src = a.allocateFrom(source == null ? "" : source);
            MemorySegment fs = type == null ? MemorySegment.NULL : a.allocateFrom(type);
            MemorySegment d = data == null ? MemorySegment.NULL : a.allocateFrom(data);
            int r = (int) Calls.MOUNT.invokeExact(st, src, a.allocateFrom(target), fs, flags, d);
            if (r != 0) throw new ErrnoException("mount", target, errno(st));
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void umount2(String target, int flags) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CALL_STATE);
            int r = (int) Calls.UMOUNT2.invokeExact(st, a.allocateFrom(target), flags);
            if (r != 0) throw new ErrnoException("umount", target, errno(st));
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void mkfifo(String path, int mode) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CALL_STATE);
            int r = (int) Calls.MKFIFO.invokeExact(st, a.allocateFrom(path), mode);
            if (r != 0) throw new ErrnoException("mkfifo", path, errno(st));
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static boolean isatty(int fd) {
        try {
            return (int) Tty.ISATTY.invokeExact(fd) == 1;
        } catch (Throwable t) {
            return false;
        }
    }

    /** Saved terminal attributes (struct termios, 60 bytes on Linux; generously sized). */
    public record Termios(byte[] raw) {}

    public static Termios tcgetattr(int fd) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CALL_STATE);
            MemorySegment t = a.allocate(128);
            int r = (int) Tty.TCGETATTR.invokeExact(st, fd, t);
            if (r != 0) throw new ErrnoException("tcgetattr", "fd " + fd, errno(st));
            return new Termios(t.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** tcsetattr(fd, TCSANOW, t). */
    public static void tcsetattr(int fd, Termios t) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CALL_STATE);
            MemorySegment m = a.allocateFrom(java.lang.foreign.ValueLayout.JAVA_BYTE, t.raw());
            int r = (int) Tty.TCSETATTR.invokeExact(st, fd, 0, m);
            if (r != 0) throw new ErrnoException("tcsetattr", "fd " + fd, errno(st));
        } catch (IOException e) {
            throw e;
        } catch (Throwable t2) {
            throw rethrow(t2);
        }
    }

    /** {@code t} with cfmakeraw applied. */
    public static Termios makeRaw(Termios t) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment m = a.allocateFrom(java.lang.foreign.ValueLayout.JAVA_BYTE, t.raw());
            Tty.CFMAKERAW.invokeExact(m);
            return new Termios(m.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
        } catch (Throwable th) {
            throw rethrow(th);
        }
    }

    /** The terminal size of {@code fd} as {width, height}, or null if it is not a terminal. */
    public static int[] windowSize(int fd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CALL_STATE);
            MemorySegment ws = a.allocate(8);
            int r = (int) Tty.IOCTL.invokeExact(st, fd, 0x5413L /* TIOCGWINSZ */, ws);
            if (r != 0) return null;
            int rows = Short.toUnsignedInt(ws.get(JAVA_SHORT, 0));
            int cols = Short.toUnsignedInt(ws.get(JAVA_SHORT, 2));
            return new int[] {cols, rows};
        } catch (Throwable t) {
            return null;
        }
    }
}
