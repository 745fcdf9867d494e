package io.jcontainerd.shim.io;

import io.jcontainerd.shim.sys.Posix;
import io.jcontainerd.sys.ErrnoException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * A process's terminal: the pty master runc passes back over the console socket, copied to and from the
 * client's FIFOs (or a logging binary). Each copying thread owns its own duplicate of the master, so
 * closing one never leaves another writing to a recycled descriptor number.
 */
public final class Console implements AutoCloseable {
    private static final long TIOCSWINSZ = 0x5414;

    /** The socket runc's {@code --console-socket} connects to, in a private temporary directory. */
    public static final class Socket implements AutoCloseable {
        private final Path dir;
        private final Path path;
        private final int fd;

        private Socket(Path dir, Path path, int fd) {
            this.dir = dir;
            this.path = path;
            this.fd = fd;
        }

        public static Socket create() throws IOException {
            Path dir = Files.createTempDirectory("pty");
            Path path = dir.resolve("pty.sock");
            try {
                return new Socket(dir, path, Posix.listenUnix(path.toString()));
            } catch (IOException e) {
                Files.deleteIfExists(dir);
                throw e;
            }
        }

        public String path() {
            return path.toString();
        }

        /** The pty master runc sent (after runc create/exec returned). */
        public int receiveMaster() throws ErrnoException {
            return Posix.receiveFd(fd, 10_000);
        }

        @Override
        public void close() {
            Posix.close(fd);
            try {
                Files.deleteIfExists(path);
                Files.deleteIfExists(dir);
            } catch (IOException ignored) {
                // a leftover in /tmp is harmless
            }
        }
    }

    private final int master;
    private final CountDownLatch outputDone = new CountDownLatch(1);
    private volatile boolean stopOutput;
    private int stdinKeepalive = -1;
    private ProcessIo logger;
    private volatile boolean closed;

    private Console(int master) {
        this.master = master;
    }

    /** Starts copying between {@code master} and the client's stdio; the console owns {@code master}. */
    public static Console start(int master, String id, String namespace, Stdio stdio) throws IOException {
        Console c = new Console(master);
        try {
            c.startCopy(id, namespace, stdio);
        } catch (IOException | RuntimeException e) {
            c.close();
            throw e;
        }
        return c;
    }

    private void startCopy(String id, String namespace, Stdio stdio) throws IOException {
        if (!stdio.stdin().isEmpty()) {
            int reader = Posix.open(stdio.stdin(), Posix.O_RDONLY | Posix.O_NONBLOCK, 0);
            int to;
            try {
                stdinKeepalive = Posix.open(stdio.stdin(), Posix.O_WRONLY | Posix.O_NONBLOCK, 0);
                Posix.setNonBlocking(reader, false);
                to = Posix.dupAbove(master, 3);
            } catch (IOException e) {
                Posix.close(reader);
                throw e;
            }
            Pump.start(id + "-console-in", reader, to, null, () -> {
                Posix.close(to);
                Posix.close(reader);
                // as containerd: once the client's stdin is gone the console is shut down
                stopOutput = true;
            });
        }
        if (stdio.stdout().isEmpty()) {
            outputDone.countDown();
            return;
        }
        int sink;
        if (stdio.stdout().startsWith("binary://")) {
            logger = ProcessIo.create(id, namespace, new Stdio("", stdio.stdout(), "", false), 0, 0);
            sink = Posix.dupAbove(logger.runcFds()[1], 3);
            logger.closeAfterStart();
        } else {
            sink = ProcessIo.openSink(stdio.stdout());
        }
        int from = Posix.dupAbove(master, 3);
        Pump.start(id + "-console-out", from, sink, () -> stopOutput, () -> {
            Posix.close(sink);
            Posix.close(from);
            outputDone.countDown();
        });
    }

    /** ResizePty: TIOCSWINSZ on the master. */
    public void resize(int width, int height) throws ErrnoException {
        if (closed) return;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ws = arena.allocate(8, 2);
            ws.set(JAVA_SHORT, 0, (short) height);
            ws.set(JAVA_SHORT, 2, (short) width);
            Posix.ioctl(master, TIOCSWINSZ, ws, "TIOCSWINSZ");
        }
    }

    /** CloseIO: drops the keep-alive writer of the stdin FIFO. */
    public void closeStdin() {
        int fd = stdinKeepalive;
        stdinKeepalive = -1;
        Posix.close(fd);
    }

    /** Waits until the terminal's output reached its end (all of the pty's users are gone). */
    public boolean awaitOutput(long millis) {
        try {
            return outputDone.await(millis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        stopOutput = true;
        closeStdin();
        Posix.close(master);
        if (logger != null) logger.close();
    }
}
