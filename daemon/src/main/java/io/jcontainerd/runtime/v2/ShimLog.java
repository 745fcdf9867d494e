package io.jcontainerd.runtime.v2;

import io.jcontainerd.sys.ErrnoException;
import io.jcontainerd.sys.Libc;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The read side of a shim's {@code log} FIFO in its bundle: the shim writes its log there and the daemon
 * copies it, line by line, onto its own stderr log. The FIFO is opened read-write, as containerd does,
 * so neither side's open blocks and the shim never sees EPIPE while the daemon lives.
 */
final class ShimLog implements AutoCloseable {
    private static final int S_IFIFO = 0010000;

    private final FileChannel fifo;
    private final Thread copier;
    private volatile boolean closed;

    private ShimLog(FileChannel fifo, PrintStream out) {
        this.fifo = fifo;
        // a platform thread: a blocking FIFO read would pin a virtual thread's carrier anyway
        this.copier = Thread.ofPlatform().daemon().name("shim-log").stackSize(128 * 1024).start(() -> copy(out));
    }

    /** Creates the FIFO if needed and starts copying it to {@code out}. */
    static ShimLog open(Path bundle, PrintStream out) throws IOException {
        Path path = bundle.resolve("log");
        try {
            Libc.mknod(path.toString(), S_IFIFO | 0700, 0);
        } catch (ErrnoException e) {
            if (e.errno() != Libc.EEXIST) throw e;
        }
        return new ShimLog(FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE), out);
    }

    private void copy(PrintStream out) {
        ByteBuffer buf = ByteBuffer.allocate(8192);
        java.io.ByteArrayOutputStream line = new java.io.ByteArrayOutputStream();
        try {
            while (fifo.read(buf) >= 0) {
                buf.flip();
                while (buf.hasRemaining()) {
                    byte b = buf.get();
                    if (b == '\n') {
                        out.println(line.toString(StandardCharsets.UTF_8));
                        line.reset();
                    } else {
                        line.write(b);
                    }
                }
                buf.clear();
            }
        } catch (IOException e) {
            if (!closed) {
                System.getLogger(ShimLog.class.getName()).log(System.Logger.Level.WARNING, "copy shim log: " + e.getMessage());
            }
        }
        if (line.size() > 0) out.println(line.toString(StandardCharsets.UTF_8));
    }

    @Override
    public void close() {
        closed = true;
        try {
            fifo.close(); // wakes the copier's blocked read
        } catch (IOException e) {
            // nothing left to release
        }
    }
}
