package io.jcontainerd.client.cio;

import io.jcontainerd.client.TasksClient;
import io.jcontainerd.client.sys.Native;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A process's stdio over FIFOs the client makes, as containerd's client does: a fresh directory
 * under the FIFO root holding {@code <id>-stdin}, {@code <id>-stdout}, {@code <id>-stderr} (no
 * stderr with a terminal); the shim opens the other ends. Bytes are copied unchanged between the
 * FIFOs and the given streams, each by its own thread, from before the task is created (the shim
 * opens the FIFOs while creating it). Opening a FIFO blocks until its peer opens it;
 * {@link #cancel()} releases such opens by briefly opening the FIFO read-write.
 */
public final class TaskIo implements AutoCloseable {
    /** Where jctr puts FIFO directories unless told otherwise (containerd's is /run/containerd/fifo). */
    public static final Path DEFAULT_FIFO_DIR = Path.of("/run/jcontainerd/fifo");

    private final Path dir;
    private final TasksClient.Stdio stdio;
    private final List<Pipe> pipes = new ArrayList<>();
    private final CountDownLatch outputs;
    private final Object stdinLock = new Object();
    private boolean stdinDone;
    private Runnable onStdinEof;

    /** One FIFO and the thread copying through it. */
    private static final class Pipe {
        final Path path;
        volatile FileChannel channel;
        volatile boolean cancelled;

        Pipe(Path path) {
            this.path = path;
        }
    }

    private TaskIo(Path dir, TasksClient.Stdio stdio, int outputCount) {
        this.dir = dir;
        this.stdio = stdio;
        this.outputs = new CountDownLatch(outputCount);
    }

    /**
     * Makes the FIFOs for process {@code id} in a new directory under {@code fifoRoot} and starts
     * copying: {@code in} to the process's stdin, its stdout and stderr to {@code out} and
     * {@code err}. A null stream means no such FIFO.
     */
    public static TaskIo create(Path fifoRoot, String id, boolean terminal, InputStream in, OutputStream out, OutputStream err)
            throws IOException {
        Files.createDirectories(fifoRoot);
        Path dir = Files.createTempDirectory(fifoRoot, "", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        try {
            Path stdin = in == null ? null : dir.resolve(id + "-stdin");
            Path stdout = out == null ? null : dir.resolve(id + "-stdout");
            Path stderr = err == null || terminal ? null : dir.resolve(id + "-stderr");
            for (Path p : new Path[] {stdin, stdout, stderr}) {
                if (p != null) Native.mkfifo(p.toString(), 0700);
            }
            return start(dir, stdin, stdout, stderr, terminal, in, out, err);
        } catch (IOException | RuntimeException e) {
            deleteTree(dir);
            throw e;
        }
    }

    /** Copies through the existing FIFOs of a running process (attach); {@link #close()} leaves them. */
    public static TaskIo attach(TasksClient.Stdio existing, InputStream in, OutputStream out, OutputStream err) {
        Path stdin = existing.stdin().isEmpty() || in == null ? null : Path.of(existing.stdin());
        Path stdout = existing.stdout().isEmpty() || out == null ? null : Path.of(existing.stdout());
        Path stderr = existing.stderr().isEmpty() || err == null || existing.terminal() ? null : Path.of(existing.stderr());
        return start(null, stdin, stdout, stderr, existing.terminal(), in, out, err);
    }

    private static TaskIo start(Path dir, Path stdin, Path stdout, Path stderr, boolean terminal, InputStream in,
                                OutputStream out, OutputStream err) {
        int outs = (stdout != null ? 1 : 0) + (stderr != null ? 1 : 0);
        TaskIo io = new TaskIo(dir, new TasksClient.Stdio(str(stdin), str(stdout), str(stderr), terminal), outs);
        if (stdin != null) io.copyIn(stdin, in);
        if (stdout != null) io.copyOut(stdout, out, "stdout");
        if (stderr != null) io.copyOut(stderr, err, "stderr");
        return io;
    }

    private static String str(Path p) {
        return p == null ? "" : p.toString();
    }

    /** The paths to give the Tasks service. */
    public TasksClient.Stdio stdio() {
        return stdio;
    }

    /**
     * What to do once the input stream ends (the FIFO is closed by then): containerd's client closes
     * the task's stdin through the Tasks service, since the shim holds the FIFO open itself. Runs at
     * once if the input has already ended.
     */
    public void onStdinEof(Runnable r) {
        boolean now;
        synchronized (stdinLock) {
            onStdinEof = r;
            now = stdinDone;
        }
        if (now) r.run();
    }

    private void copyIn(Path fifo, InputStream in) {
        Pipe p = new Pipe(fifo);
        pipes.add(p);
        thread("jctr-stdin", () -> {
            try (FileChannel ch = FileChannel.open(fifo, StandardOpenOption.WRITE)) {
                p.channel = ch;
                if (p.cancelled) return;
                byte[] buf = new byte[32 * 1024];
                int n;
                while ((n = in.read(buf)) >= 0) {
                    ByteBuffer b = ByteBuffer.wrap(buf, 0, n);
                    while (b.hasRemaining()) ch.write(b);
                }
            } catch (IOException e) {
                // the process went away or we were cancelled: stop copying
                return;
            }
            Runnable r;
            synchronized (stdinLock) {
                stdinDone = true;
                r = onStdinEof;
            }
            if (r != null && !p.cancelled) r.run();
        });
    }

    private void copyOut(Path fifo, OutputStream out, String name) {
        Pipe p = new Pipe(fifo);
        pipes.add(p);
        thread("jctr-" + name, () -> {
            try (FileChannel ch = FileChannel.open(fifo, StandardOpenOption.READ)) {
                p.channel = ch;
                if (p.cancelled) return;
                ByteBuffer b = ByteBuffer.allocate(32 * 1024);
                while (ch.read(b) >= 0) {
                    synchronized (out) {
                        out.write(b.array(), 0, b.position());
                        out.flush();
                    }
                    b.clear();
                }
            } catch (IOException e) {
                // closed under us (cancel) or the output went away
            } finally {
                outputs.countDown();
            }
        });
    }

    private static void thread(String name, Runnable r) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        t.start();
    }

    /** Waits until stdout and stderr have reached end of file (the shim closed them), at most {@code timeout}. */
    public boolean awaitOutput(Duration timeout) {
        try {
            return outputs.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Stops copying: pending opens are released, open FIFOs closed. */
    public void cancel() {
        for (Pipe p : pipes) {
            p.cancelled = true;
            FileChannel ch = p.channel;
            if (ch == null) {
                // a thread may be blocked opening: satisfy its open with a read-write open of our own
                try (FileChannel release = FileChannel.open(p.path, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                    // opened and closed
                } catch (IOException ignored) {
                    // the FIFO is gone already
                }
                ch = p.channel;
            }
            if (ch != null) {
                try {
                    ch.close();
                } catch (IOException ignored) {
                    // already closed
                }
            }
        }
    }

    /** Cancels and removes the FIFO directory (if this object made it). */
    @Override
    public void close() {
        cancel();
        if (dir != null) deleteTree(dir);
    }

    private static void deleteTree(Path dir) {
        try (var walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // best effort
                }
            });
        } catch (IOException ignored) {
            // gone
        }
    }
}
