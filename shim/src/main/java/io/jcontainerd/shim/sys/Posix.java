package io.jcontainerd.shim.sys;

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

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * The libc calls the shim needs beyond {@link io.jcontainerd.sys.Libc}: pipes, raw reads and writes,
 * signals, waitid, prctl, unix sockets with SCM_RIGHTS, memfd. Handles are grouped in holders created
 * on first use so that the {@code start} and {@code delete} commands, which need almost none of them,
 * do not pay for linking them. Failures throw {@link ErrnoException}.
 */
public final class Posix {
    private Posix() {}

    public static final int EINTR = 4;
    public static final int EAGAIN = 11;
    public static final int ECHILD = 10;
    public static final int EIO = 5;
    public static final int ENXIO = 6;
    public static final int ESRCH = 3;
    public static final int EPIPE = 32;

    public static final int O_RDONLY = 0;
    public static final int O_WRONLY = 1;
    public static final int O_RDWR = 2;
    public static final int O_CREAT = 0x40;
    public static final int O_APPEND = 0x400;
    public static final int O_NONBLOCK = 0x800;
    public static final int O_CLOEXEC = 0x80000;

    public static final int SIGKILL = 9;
    public static final int SIGTERM = 15;

    static final int F_GETFL = 3;
    static final int F_SETFL = 4;
    static final int F_DUPFD_CLOEXEC = 1030;

    static final class Base {
        static final Linker LINKER = Linker.nativeLinker();
        static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
        static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
        /**
         * {@code long syscall(long nr, ...)} with six long arguments: one downcall stub serves every system
         * call below. Each distinct native signature costs the JVM a generated class and tens of
         * milliseconds at first use, which a shim pays at every start.
         */
        static final MethodHandle SYSCALL = LINKER.downcallHandle(
                LINKER.defaultLookup().find("syscall").orElseThrow(),
                FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
                Linker.Option.captureCallState("errno"), Linker.Option.firstVariadicArg(1));
    }

    /** System call numbers: x86-64 and arm64 (which lacks open, poll and pipe). */
    private static final class Nr {
        static final boolean ARM = System.getProperty("os.arch").equals("aarch64");
        static final long READ = ARM ? 63 : 0;
        static final long WRITE = ARM ? 64 : 1;
        static final long CLOSE = ARM ? 57 : 3;
        static final long PREAD = ARM ? 67 : 17;
        static final long IOCTL = ARM ? 29 : 16;
        static final long PIPE2 = ARM ? 59 : 293;
        static final long OPENAT = ARM ? 56 : 257;
        static final long FCNTL = ARM ? 25 : 72;
        static final long KILL = ARM ? 129 : 62;
        static final long PRCTL = ARM ? 167 : 157;
        static final long WAITID = ARM ? 95 : 247;
        static final long SOCKET = ARM ? 198 : 41;
        static final long BIND = ARM ? 200 : 49;
        static final long LISTEN = ARM ? 201 : 50;
        static final long ACCEPT4 = ARM ? 242 : 288;
        static final long RECVMSG = ARM ? 212 : 47;
        static final long PPOLL = ARM ? 73 : 271;
        static final long MEMFD_CREATE = ARM ? 279 : 319;
        static final long EVENTFD2 = ARM ? 19 : 290;
        static final long FCHOWN = ARM ? 55 : 93;
    }

    static final int AT_FDCWD = -100;

    /** One system call; returns the raw result (-1 with errno in {@code state} on failure). */
    static long sys(MemorySegment state, long nr, long a, long b, long c, long d, long e) {
        try {
            return (long) Base.SYSCALL.invokeExact(state, nr, a, b, c, d, e, 0L);
        } catch (Throwable t) {
            throw unexpected("syscall " + nr, t);
        }
    }

    /** A system call that is retried on EINTR and throws on failure. */
    static long check(String what, long nr, long a, long b, long c, long d, long e) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Base.CAPTURE);
            while (true) {
                long rc = sys(state, nr, a, b, c, d, e);
                if (rc >= 0) return rc;
                if (errno(state) != EINTR) throw error(what, state);
            }
        }
    }

    static ErrnoException error(String call, MemorySegment state) {
        return new ErrnoException(call, errno(state));
    }

    static int errno(MemorySegment state) {
        return (int) Base.ERRNO.get(state, 0L);
    }

    static IllegalStateException unexpected(String call, Throwable t) {
        return new IllegalStateException(call + ": " + t, t);
    }

    /** A capture-state buffer for callers that loop over {@link #read} and {@link #write}. */
    public static MemorySegment newErrnoState(Arena arena) {
        return arena.allocate(Base.CAPTURE);
    }

    // ---- files and pipes ----

    /** pipe2(2) with O_CLOEXEC: {read end, write end}. */
    public static int[] pipe() throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fds = arena.allocate(JAVA_INT, 2);
            check("pipe2", Nr.PIPE2, fds.address(), O_CLOEXEC, 0, 0, 0);
            return new int[] {fds.getAtIndex(JAVA_INT, 0), fds.getAtIndex(JAVA_INT, 1)};
        }
    }

    /** fchown(2). */
    public static void fchown(int fd, int uid, int gid) throws ErrnoException {
        check("fchown", Nr.FCHOWN, fd, uid, gid, 0, 0);
    }

    /** open(2) with O_CLOEXEC added. */
    public static int open(String path, int flags, int mode) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            return (int) check("open " + path, Nr.OPENAT, AT_FDCWD, arena.allocateFrom(path).address(), flags | O_CLOEXEC, mode, 0);
        }
    }

    /** close(2), ignoring errors and negative fds. */
    public static void close(int fd) {
        if (fd < 0) return;
        try (Arena arena = Arena.ofConfined()) {
            sys(arena.allocate(Base.CAPTURE), Nr.CLOSE, fd, 0, 0, 0, 0);
        }
    }

    /** read(2) into {@code buf}; returns bytes read, 0 at end of file, or -errno. Retries EINTR. */
    public static long read(int fd, MemorySegment buf, long len, MemorySegment state) {
        while (true) {
            long n = sys(state, Nr.READ, fd, buf.address(), len, 0, 0);
            if (n >= 0) return n;
            int e = errno(state);
            if (e != EINTR) return -e;
        }
    }

    /** Writes all of {@code buf[0, len)}; returns 0 or -errno. Retries EINTR and short writes. */
    public static int writeAll(int fd, MemorySegment buf, long len, MemorySegment state) {
        long off = 0;
        while (off < len) {
            long n = sys(state, Nr.WRITE, fd, buf.address() + off, len - off, 0, 0);
            if (n < 0) {
                int e = errno(state);
                if (e == EINTR) continue;
                return -e;
            }
            off += n;
        }
        return 0;
    }

    /** Writes bytes to fd (for small messages: logs, single-byte signals); returns 0 or -errno. */
    public static int write(int fd, byte[] bytes) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Base.CAPTURE);
            MemorySegment buf = arena.allocateFrom(ValueLayout.JAVA_BYTE, bytes);
            return writeAll(fd, buf, bytes.length, state);
        }
    }

    /** The whole content of a regular file descriptor, read with pread from offset 0. */
    public static byte[] readAll(int fd) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(65536);
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            long off = 0;
            while (true) {
                long n = check("pread", Nr.PREAD, fd, buf.address(), buf.byteSize(), off, 0);
                if (n == 0) return out.toByteArray();
                out.writeBytes(buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE));
                off += n;
            }
        }
    }

    /** memfd_create(2) with MFD_CLOEXEC: an anonymous file, e.g. to capture a command's output. */
    public static int memfd(String name) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            return (int) check("memfd_create", Nr.MEMFD_CREATE, arena.allocateFrom(name).address(), 1 /* MFD_CLOEXEC */, 0, 0, 0);
        }
    }

    /** eventfd(2) with EFD_CLOEXEC (e.g. for cgroup v1 OOM notifications). */
    public static int eventfd() throws ErrnoException {
        return (int) check("eventfd", Nr.EVENTFD2, 0, O_CLOEXEC, 0, 0, 0);
    }

    /** Duplicates fd to the lowest free number at or above {@code min}, close-on-exec. */
    public static int dupAbove(int fd, int min) throws ErrnoException {
        return fcntl(fd, F_DUPFD_CLOEXEC, min, "fcntl F_DUPFD_CLOEXEC");
    }

    /** Sets or clears O_NONBLOCK. */
    public static void setNonBlocking(int fd, boolean on) throws ErrnoException {
        int fl = fcntl(fd, F_GETFL, 0, "fcntl F_GETFL");
        fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK, "fcntl F_SETFL");
    }

    private static int fcntl(int fd, int cmd, int arg, String what) throws ErrnoException {
        return (int) check(what, Nr.FCNTL, fd, cmd, arg, 0, 0);
    }

    // ---- processes ----

    /** kill(2). */
    public static void kill(int pid, int sig) throws ErrnoException {
        check("kill " + pid, Nr.KILL, pid, sig, 0, 0, 0);
    }

    /** prctl(PR_SET_CHILD_SUBREAPER, 1): orphaned descendants are reparented to this process. */
    public static void setChildSubreaper() throws ErrnoException {
        check("prctl PR_SET_CHILD_SUBREAPER", Nr.PRCTL, 36, 1, 0, 0, 0);
    }

    /** One reaped child: its pid and the shell-style status (exit code, or 128 + signal). */
    public record Reaped(int pid, int status) {}

    /**
     * waitid(P_ALL, 0, WEXITED): blocks until any child exits and reaps it. Returns null when there
     * are no children (ECHILD).
     */
    public static Reaped waitAny(Arena arena, MemorySegment info, MemorySegment state) throws ErrnoException {
        {
            while (true) {
                info.fill((byte) 0);
                long rc = sys(state, Nr.WAITID, 0 /* P_ALL */, 0, info.address(), 4 /* WEXITED */, 0);
                if (rc == 0) {
                    int code = info.get(JAVA_INT, 8);
                    int pid = info.get(JAVA_INT, 16);
                    int st = info.get(JAVA_INT, 24);
                    // CLD_EXITED = 1; CLD_KILLED = 2, CLD_DUMPED = 3 carry the signal
                    return new Reaped(pid, code == 1 ? st : 128 + st);
                }
                int e = errno(state);
                if (e == EINTR) continue;
                if (e == ECHILD) return null;
                throw error("waitid", state);
            }
        }
    }

    /** poll(2) for input on one descriptor; returns its revents, or 0 on timeout. */
    public static int pollIn(int fd, int timeoutMillis) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Base.CAPTURE);
            MemorySegment pfd = arena.allocate(8, 4);
            pfd.set(JAVA_INT, 0, fd);
            pfd.set(JAVA_SHORT, 4, (short) 1 /* POLLIN */);
            long rc = sys(state, Nr.PPOLL, pfd.address(), 1, timespec(arena, timeoutMillis).address(), 0, 8);
            if (rc < 0) {
                if (errno(state) == EINTR) return 0;
                throw error("poll", state);
            }
            return rc == 0 ? 0 : pfd.get(JAVA_SHORT, 6);
        }
    }

    private static MemorySegment timespec(Arena arena, int millis) {
        MemorySegment ts = arena.allocate(16, 8);
        ts.set(JAVA_LONG, 0, millis / 1000);
        ts.set(JAVA_LONG, 8, (millis % 1000) * 1_000_000L);
        return ts;
    }

    /** ioctl(2) with a pointer argument. */
    public static void ioctl(int fd, long request, MemorySegment arg, String what) throws ErrnoException {
        check("ioctl " + what, Nr.IOCTL, fd, request, arg.address(), 0, 0);
    }

    // ---- unix sockets ----

    private static final int AF_UNIX = 1;
    private static final int SOCK_STREAM = 1;
    private static final int SOCK_NONBLOCK = 0x800;
    private static final int SOCK_CLOEXEC = 0x80000;

    /** A listening unix stream socket bound to {@code path}, non-blocking and close-on-exec. */
    public static int listenUnix(String path) throws ErrnoException {
        byte[] p = path.getBytes(StandardCharsets.UTF_8);
        if (p.length >= 108) throw new ErrnoException("bind " + path + " (path too long)", 36 /* ENAMETOOLONG */);
        int fd = -1;
        try (Arena arena = Arena.ofConfined()) {
            fd = (int) check("socket", Nr.SOCKET, AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, 0, 0);
            MemorySegment addr = arena.allocate(110, 2);
            addr.set(JAVA_SHORT, 0, (short) AF_UNIX);
            MemorySegment.copy(p, 0, addr, ValueLayout.JAVA_BYTE, 2, p.length);
            check("bind " + path, Nr.BIND, fd, addr.address(), 2 + p.length + 1, 0, 0);
            check("listen " + path, Nr.LISTEN, fd, 1, 0, 0, 0);
            int ok = fd;
            fd = -1;
            return ok;
        } finally {
            close(fd);
        }
    }

    /**
     * Waits up to {@code timeoutMillis} for a connection on the listening socket and receives one file
     * descriptor passed with SCM_RIGHTS (runc's --console-socket hands over the pty master this way).
     */
    public static int receiveFd(int listenFd, int timeoutMillis) throws ErrnoException {
        int conn = -1;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Base.CAPTURE);
            MemorySegment pfd = arena.allocate(8, 4);
            pfd.set(JAVA_INT, 0, listenFd);
            pfd.set(JAVA_SHORT, 4, (short) 1 /* POLLIN */);
            long rc;
            do {
                rc = sys(state, Nr.PPOLL, pfd.address(), 1, timespec(arena, timeoutMillis).address(), 0, 8);
            } while (rc < 0 && errno(state) == EINTR);
            if (rc < 0) throw error("poll console socket", state);
            if (rc == 0) throw new ErrnoException("accept console socket (timed out)", 110 /* ETIMEDOUT */);
            conn = (int) check("accept4 console socket", Nr.ACCEPT4, listenFd, 0, 0, SOCK_CLOEXEC, 0);
            // the data part carries the pty's name; only the descriptor matters here
            MemorySegment data = arena.allocate(4096);
            MemorySegment iov = arena.allocate(16, 8);
            iov.set(ADDRESS, 0, data);
            iov.set(JAVA_LONG, 8, data.byteSize());
            MemorySegment control = arena.allocate(64, 8);
            MemorySegment msg = arena.allocate(56, 8);
            msg.set(ADDRESS, 16, iov);
            msg.set(JAVA_LONG, 24, 1L);
            msg.set(ADDRESS, 32, control);
            msg.set(JAVA_LONG, 40, control.byteSize());
            check("recvmsg console socket", Nr.RECVMSG, conn, msg.address(), 0x40000000 /* MSG_CMSG_CLOEXEC */, 0, 0);
            long controlLen = msg.get(JAVA_LONG, 40);
            // struct cmsghdr { size_t len; int level; int type; unsigned char data[]; }
            if (controlLen < 20 || control.get(JAVA_INT, 8) != 1 /* SOL_SOCKET */ || control.get(JAVA_INT, 12) != 1 /* SCM_RIGHTS */) {
                throw new ErrnoException("recvmsg console socket (no file descriptor received)", EIO);
            }
            return control.get(JAVA_INT, 16);
        } finally {
            close(conn);
        }
    }
}
