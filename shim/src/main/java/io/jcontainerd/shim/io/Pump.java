package io.jcontainerd.shim.io;

import io.jcontainerd.shim.sys.Posix;
import io.jcontainerd.shim.util.Log;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.function.BooleanSupplier;

/**
 * Copies bytes from one descriptor to another on a small platform thread, through a native buffer (no
 * copy into the Java heap). Platform, not virtual, because the reads block in native code, which would
 * pin a carrier of the virtual-thread scheduler for as long as the process is quiet.
 */
final class Pump {
    private static final int BUFFER = 32 * 1024;

    private Pump() {}

    /**
     * Starts copying {@code from} to {@code to} until end of file, EIO (a pty whose other side is gone)
     * or a write error; then runs {@code done}. With {@code stop} set, the source is polled and the copy
     * ends early once {@code stop} turns true.
     */
    static Thread start(String name, int from, int to, BooleanSupplier stop, Runnable done) {
        return Thread.ofPlatform().name(name).daemon().stackSize(128 * 1024).start(() -> {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment buf = arena.allocate(BUFFER);
                MemorySegment state = Posix.newErrnoState(arena);
                int dst = to;
                while (true) {
                    if (stop != null) {
                        if (stop.getAsBoolean()) break;
                        if (Posix.pollIn(from, 200) == 0) continue;
                    }
                    long n = Posix.read(from, buf, BUFFER, state);
                    if (n == -Posix.EAGAIN) continue;
                    if (n <= 0) break; // EOF, EIO from a hung-up pty, or another error: the stream is over
                    if (dst >= 0 && Posix.writeAll(dst, buf, n, state) != 0) {
                        // the reader went away; keep draining so the writer never blocks on a full pipe
                        dst = -1;
                    }
                }
            } catch (Throwable t) {
                Log.warn("copy " + name + " failed", t);
            } finally {
                if (done != null) done.run();
            }
        });
    }
}
