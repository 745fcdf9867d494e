package io.jcontainerd.services.tasks;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * A pseudo-terminal for tests, as a terminal emulator holds one: the master side here (read what the
 * program prints, write what the user types), the slave's path for the program's stdio. FFM over libc's
 * posix_openpt/grantpt/unlockpt/ptsname_r, read, write and ioctl(TIOCSWINSZ).
 */
final class Pty implements AutoCloseable {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final MemoryLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle OPENPT = find("posix_openpt", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle GRANTPT = find("grantpt", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle UNLOCKPT = find("unlockpt", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle PTSNAME_R = find("ptsname_r", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle READ = find("read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle WRITE = find("write", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle CLOSE = find("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle IOCTL = LINKER.downcallHandle(LINKER.defaultLookup().find("ioctl").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), Linker.Option.captureCallState("errno"),
            Linker.Option.firstVariadicArg(2));
    private static final int O_RDWR = 2, O_NOCTTY = 0x100, EIO = 5, EINTR = 4;
    private static final long TIOCSWINSZ = 0x5414;

    private final int master;
    private final Path slave;
    private volatile boolean closed;

    private static MethodHandle find(String name, FunctionDescriptor fd) {
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), fd, Linker.Option.captureCallState("errno"));
    }

    private static IOException fail(String call, MemorySegment state) {
        return new IOException(call + " failed: errno " + (int) ERRNO.get(state, 0L));
    }

    /** A new pty of {@code rows} x {@code cols}. */
    Pty(int rows, int cols) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CAPTURE);
            int fd = (int) OPENPT.invokeExact(st, O_RDWR | O_NOCTTY);
            if (fd < 0) throw fail("posix_openpt", st);
            master = fd;
            if ((int) GRANTPT.invokeExact(st, fd) != 0) throw fail("grantpt", st);
            if ((int) UNLOCKPT.invokeExact(st, fd) != 0) throw fail("unlockpt", st);
            MemorySegment name = a.allocate(128);
            if ((int) PTSNAME_R.invokeExact(st, fd, name, 128L) != 0) throw fail("ptsname_r", st);
            slave = Path.of(name.getString(0));
            MemorySegment ws = a.allocate(8); // struct winsize: rows, cols, xpixel, ypixel
            ws.set(JAVA_SHORT, 0, (short) rows);
            ws.set(JAVA_SHORT, 2, (short) cols);
            if ((int) IOCTL.invokeExact(st, fd, TIOCSWINSZ, ws) != 0) throw fail("ioctl TIOCSWINSZ", st);
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** The slave device, for the program's stdin, stdout and stderr. */
    Path slave() {
        return slave;
    }

    /** Types {@code text}. */
    void write(String text) throws IOException {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CAPTURE);
            MemorySegment buf = a.allocate(b.length);
            buf.copyFrom(MemorySegment.ofArray(b));
            long off = 0;
            while (off < b.length) {
                long n = (long) WRITE.invokeExact(st, master, buf.asSlice(off), (long) b.length - off);
                if (n < 0 && (int) ERRNO.get(st, 0L) == EINTR) continue;
                if (n < 0) throw fail("write", st);
                off += n;
            }
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * Blocks for output; returns what came, or null once every slave is closed (EIO: the program and all
     * it started are gone). Call from a platform thread: the read blocks its carrier.
     */
    byte[] read() throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CAPTURE);
            MemorySegment buf = a.allocate(4096);
            while (true) {
                long n = (long) READ.invokeExact(st, master, buf, 4096L);
                if (n > 0) return buf.asSlice(0, n).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
                if (n == 0) return null;
                int errno = (int) ERRNO.get(st, 0L);
                if (errno == EINTR) continue;
                if (errno == EIO || closed) return null;
                throw fail("read", st);
            }
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        try (Arena a = Arena.ofConfined()) {
            int unused = (int) CLOSE.invokeExact(a.allocate(CAPTURE), master);
        } catch (Throwable ignored) {
            // closing is best effort
        }
    }
}
