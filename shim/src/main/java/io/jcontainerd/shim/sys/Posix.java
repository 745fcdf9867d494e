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

        static MethodHandle find(String name, FunctionDescriptor fd, Linker.Option... extra) {
            Linker.Option[] all = new Linker.Option[extra.length + 1];
            all[0] = Linker.Option.captureCallState("errno");
            System.arraycopy(extra, 0, all, 1, extra.length);
            return LINKER.defaultLookup().find(name).map(a -> LINKER.downcallHandle(a, fd, all)).orElse(null);
        }

        /** For calls that return an error number instead of setting errno (posix_spawn*). */
        static MethodHandle plain(String name, FunctionDescriptor fd) {
            return LINKER.defaultLookup().find(name).map(a -> LINKER.downcallHandle(a, fd)).orElse(null);
        }
    }

    private static final class Io {
        static final MethodHandle READ = Base.find("read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
        static final MethodHandle WRITE = Base.find("write", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
        static final MethodHandle PREAD = Base.find("pread", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));
        static final MethodHandle PIPE2 = Base.find("pipe2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        static final MethodHandle OPEN = Base.find("open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
                Linker.Option.firstVariadicArg(2));
        static final MethodHandle CLOSE = Base.find("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        static final MethodHandle FCNTL = Base.find("fcntl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT),
                Linker.Option.firstVariadicArg(2));
        static final MethodHandle MEMFD = Base.find("memfd_create", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    }

    private static final class Proc {
        static final MethodHandle KILL = Base.find("kill", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
        static final MethodHandle PRCTL = Base.find("prctl",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG), Linker.Option.firstVariadicArg(1));
        static final MethodHandle WAITID = Base.find("waitid", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    }

    private static final class Sock {
        static final MethodHandle SOCKET = Base.find("socket", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
        static final MethodHandle BIND = Base.find("bind", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
        static final MethodHandle LISTEN = Base.find("listen", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
        static final MethodHandle ACCEPT4 = Base.find("accept4", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
        static final MethodHandle RECVMSG = Base.find("recvmsg", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
        static final MethodHandle POLL = Base.find("poll", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
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
            MemorySegment state = arena.allocate(Base.CAPTURE);
            MemorySegment fds = arena.allocate(JAVA_INT, 2);
            int rc = (int) Io.PIPE2.invokeExact(state, fds, O_CLOEXEC);
            if (rc != 0) throw error("pipe2", state);
            return new int[] {fds.getAtIndex(JAVA_INT, 0), fds.getAtIndex(JAVA_INT, 1)};
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("pipe2", t);
        }
    }

    /** open(2) with O_CLOEXEC added. */
    public static int open(String path, int flags, int mode) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Base.CAPTURE);
            int fd = (int) Io.OPEN.invokeExact(state, arena.allocateFrom(path), flags | O_CLOEXEC, mode);
            if (fd < 0) throw error("open " + path, state);
            return fd;
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("open", t);
        }
    }

    /** close(2), ignoring errors and negative fds. */
    public static void close(int fd) {
        if (fd < 0) return;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Base.CAPTURE);
            int ignored = (int) Io.CLOSE.invokeExact(state, fd);
        } catch (Throwable t) {
            throw unexpected("close", t);
        }
    }

    /** read(2) into {@code buf}; returns bytes read, 0 at end of file, or -errno. Retries EINTR. */
    public static long read(int fd, MemorySegment buf, long len, MemorySegment state) {
        try {
            while (true) {
                long n = (long) Io.READ.invokeExact(state, fd, buf, len);
                if (n >= 0) return n;
                int e = errno(state);
                if (e != EINTR) return -e;
            }
        } catch (Throwable t) {
            throw unexpected("read", t);
        }
    }

    /** Writes all of {@code buf[0, len)}; returns 0 or -errno. Retries EINTR and short writes. */
    public static int writeAll(int fd, MemorySegment buf, long len, MemorySegment state) {
        try {
            long off = 0;
            while (off < len) {
                long n = (long) Io.WRITE.invokeExact(state, fd, buf.asSlice(off), len - off);
                if (n < 0) {
                    int e = errno(state);
                    if (e == EINTR) continue;
                    return -e;
                }
                off += n;
            }
            return 0;
        } catch (Throwable t) {
            throw unexpected("write", t);
        }
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
            MemorySegment state = arena.allocate(Base.CAPTURE);
            MemorySegment buf = arena.allocate(65536);
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            long off = 0;
            while (true) {
                long n = (long) Io.PREAD.invokeExact(state, fd, buf, buf.byteSize(), off);
                if (n < 0) {
                    if (errno(state) == EINTR) continue;
                    throw error("pread", state);
                }
                if (n == 0) return out.toByteArray();
                out.write(buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE));
                off += n;
            }
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("pread", t);
        }
    }

    /** memfd_create(2) with MFD_CLOEXEC: an anonymous file, e.g. to capture a command's output. */
    public static int memfd(String name) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Base.CAPTURE);
            int fd = (int) Io.MEMFD.invokeExact(state, arena.allocateFrom(name), 1);
            if (fd < 0) throw error("memfd_create", state);
            return fd;
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("memfd_create", t);
        }
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
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Base.CAPTURE);
            int rc = (int) Io.FCNTL.invokeExact(state, fd, cmd, arg);
            if (rc < 0) throw error(what, state);
            return rc;
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("fcntl", t);
        }
    }

    // ---- processes ----

    /** kill(2). */
    public static void kill(int pid, int sig) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Base.CAPTURE);
            int rc = (int) Proc.KILL.invokeExact(state, pid, sig);
            if (rc != 0) throw error("kill " + pid, state);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("kill", t);
        }
    }

    /** prctl(PR_SET_CHILD_SUBREAPER, 1): orphaned descendants are reparented to this process. */
    public static void setChildSubreaper() throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Base.CAPTURE);
            int rc = (int) Proc.PRCTL.invokeExact(state, 36, 1L, 0L, 0L, 0L);
            if (rc != 0) throw error("prctl PR_SET_CHILD_SUBREAPER", state);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("prctl", t);
        }
    }

    /** One reaped child: its pid and the shell-style status (exit code, or 128 + signal). */
    public record Reaped(int pid, int status) {}

    /**
     * waitid(P_ALL, 0, WEXITED): blocks until any child exits and reaps it. Returns null when there
     * are no children (ECHILD).
     */
    public static Reaped waitAny(Arena arena, MemorySegment info, MemorySegment state) throws ErrnoException {
        try {
            while (true) {
                info.fill((byte) 0);
                int rc = (int) Proc.WAITID.invokeExact(state, 0 /* P_ALL */, 0, info, 4 /* WEXITED */);
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
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("waitid", t);
        }
    }

    /** poll(2) for input on one descriptor; returns its revents, or 0 on timeout. */
    public static int pollIn(int fd, int timeoutMillis) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Base.CAPTURE);
            MemorySegment pfd = arena.allocate(8, 4);
            pfd.set(JAVA_INT, 0, fd);
            pfd.set(JAVA_SHORT, 4, (short) 1 /* POLLIN */);
            int rc = (int) Sock.POLL.invokeExact(state, pfd, 1L, timeoutMillis);
            if (rc < 0) {
                if (errno(state) == EINTR) return 0;
                throw error("poll", state);
            }
            return rc == 0 ? 0 : pfd.get(JAVA_SHORT, 6);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("poll", t);
        }
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
            MemorySegment state = arena.allocate(Base.CAPTURE);
            fd = (int) Sock.SOCKET.invokeExact(state, AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            if (fd < 0) throw error("socket", state);
            MemorySegment addr = arena.allocate(110, 2);
            addr.set(JAVA_SHORT, 0, (short) AF_UNIX);
            MemorySegment.copy(p, 0, addr, ValueLayout.JAVA_BYTE, 2, p.length);
            int rc = (int) Sock.BIND.invokeExact(state, fd, addr, 2 + p.length + 1);
            if (rc != 0) throw error("bind " + path, state);
            rc = (int) Sock.LISTEN.invokeExact(state, fd, 1);
            if (rc != 0) throw error("listen " + path, state);
            int ok = fd;
            fd = -1;
            return ok;
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("listen", t);
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
            int rc;
            do {
                rc = (int) Sock.POLL.invokeExact(state, pfd, 1L, timeoutMillis);
            } while (rc < 0 && errno(state) == EINTR);
            if (rc < 0) throw error("poll console socket", state);
            if (rc == 0) throw new ErrnoException("accept console socket (timed out)", 110 /* ETIMEDOUT */);
            conn = (int) Sock.ACCEPT4.invokeExact(state, listenFd, MemorySegment.NULL, MemorySegment.NULL, SOCK_CLOEXEC);
            if (conn < 0) throw error("accept4 console socket", state);
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
            long n;
            do {
                n = (long) Sock.RECVMSG.invokeExact(state, conn, msg, 0x40000000 /* MSG_CMSG_CLOEXEC */);
            } while (n < 0 && errno(state) == EINTR);
            if (n < 0) throw error("recvmsg console socket", state);
            long controlLen = msg.get(JAVA_LONG, 40);
            // struct cmsghdr { size_t len; int level; int type; unsigned char data[]; }
            if (controlLen < 20 || control.get(JAVA_INT, 8) != 1 /* SOL_SOCKET */ || control.get(JAVA_INT, 12) != 1 /* SCM_RIGHTS */) {
                throw new ErrnoException("recvmsg console socket (no file descriptor received)", EIO);
            }
            return control.get(JAVA_INT, 16);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("receiveFd", t);
        } finally {
            close(conn);
        }
    }
}
