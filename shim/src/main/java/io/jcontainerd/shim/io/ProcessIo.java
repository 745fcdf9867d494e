package io.jcontainerd.shim.io;

import io.jcontainerd.errdefs.Errdefs;
import io.jcontainerd.shim.proc.Exit;
import io.jcontainerd.shim.proc.Processes;
import io.jcontainerd.shim.sys.Posix;
import io.jcontainerd.shim.util.Log;
import io.jcontainerd.sys.ErrnoException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The non-terminal stdio of one process, with containerd's schemes: a plain path is a FIFO (or file) the
 * client reads and writes, {@code file:///path} appends stdout and stderr to one file, {@code
 * binary:///path?args} starts a logging binary that gets the output pipes as fds 3 and 4 and signals
 * readiness on fd 5. runc gets pipes; the shim copies between them and the client's FIFOs.
 */
public final class ProcessIo implements AutoCloseable {
    private enum Mode { NULL, PIPES, BINARY }

    private final String id;
    private final Stdio stdio;
    private final Mode mode;
    private String stdoutTarget;
    private String stderrTarget;
    /** Descriptors runc gets as 0, 1, 2 (-1: /dev/null). */
    private final int[] childFds = {-1, -1, -1};
    /** The shim's ends: stdin writer, stdout reader, stderr reader. */
    private final int[] shimFds = {-1, -1, -1};
    private final List<Integer> toCloseAfterStart = new ArrayList<>();
    private final CountDownLatch outputsDone;
    private int stdinKeepalive = -1;
    private Processes.Child logger;
    private volatile boolean closed;

    private ProcessIo(String id, Stdio stdio, Mode mode, int outputs) {
        this.id = id;
        this.stdio = stdio;
        this.mode = mode;
        this.stdoutTarget = stdio.stdout();
        this.stderrTarget = stdio.stderr();
        this.outputsDone = new CountDownLatch(outputs);
    }

    /**
     * Prepares pipes (and a logging binary) before runc runs. The process's ends of the pipes are owned by
     * {@code uid}/{@code gid} (the runtime options' io_uid/io_gid), so a process in a user namespace
     * can reopen its stdio through /proc/self/fd.
     */
    public static ProcessIo create(String id, String namespace, Stdio stdio, int uid, int gid) throws IOException {
        if (stdio.isNull()) return new ProcessIo(id, stdio, Mode.NULL, 0);
        String out = stdio.stdout();
        if (out.startsWith("binary://")) {
            ProcessIo io = new ProcessIo(id, stdio, Mode.BINARY, 0);
            try {
                io.startLogger(URI.create(out), namespace);
            } catch (IOException | RuntimeException e) {
                io.close();
                throw e;
            }
            return io;
        }
        Stdio effective = stdio;
        if (out.startsWith("file://")) {
            String path = URI.create(out).getPath();
            Files.createDirectories(Path.of(path).getParent());
            Posix.close(Posix.open(path, Posix.O_WRONLY | Posix.O_CREAT | Posix.O_APPEND, 0644));
            effective = new Stdio(stdio.stdin(), path, path, false);
        } else if (out.contains("://")) {
            throw Errdefs.invalidArgument("unknown STDIO scheme %s", out.substring(0, out.indexOf("://")));
        }
        int outputs = (effective.stdout().isEmpty() ? 0 : 1) + (effective.stderr().isEmpty() ? 0 : 1);
        ProcessIo io = new ProcessIo(id, effective, Mode.PIPES, outputs);
        io.stdoutTarget = effective.stdout();
        io.stderrTarget = effective.stderr();
        try {
            if (!effective.stdin().isEmpty()) {
                int[] p = Posix.pipe();
                io.childFds[0] = p[0];
                io.shimFds[0] = p[1];
                io.toCloseAfterStart.add(p[0]);
            }
            if (!effective.stdout().isEmpty()) {
                int[] p = Posix.pipe();
                io.childFds[1] = p[1];
                io.shimFds[1] = p[0];
                io.toCloseAfterStart.add(p[1]);
            }
            if (!effective.stderr().isEmpty()) {
                int[] p = Posix.pipe();
                io.childFds[2] = p[1];
                io.shimFds[2] = p[0];
                io.toCloseAfterStart.add(p[1]);
            }
            for (int fd : io.childFds) {
                if (fd >= 0 && (uid != 0 || gid != 0)) Posix.fchown(fd, uid, gid);
            }
        } catch (IOException e) {
            io.close();
            throw e;
        }
        return io;
    }

    /** The descriptors to give runc as its stdio. */
    public int[] runcFds() {
        return childFds.clone();
    }

    /** The stdio as the client asked for it (State reports it back). */
    public Stdio stdio() {
        return stdio;
    }

    /** Closes the shim's copies of the container's ends once runc has handed them over. */
    public void closeAfterStart() {
        for (int fd : toCloseAfterStart) Posix.close(fd);
        toCloseAfterStart.clear();
        for (int i = 0; i < 3; i++) childFds[i] = -1;
    }

    /** Opens the client's FIFOs or files and starts copying (after runc create/exec). */
    public void startCopy() throws IOException {
        if (mode != Mode.PIPES) return;
        boolean shared = shimFds[1] >= 0 && shimFds[2] >= 0 && stdoutTarget.equals(stderrTarget) && !isFifo(stdoutTarget);
        AtomicInteger sharedRefs = new AtomicInteger(shared ? 2 : 1);
        int stdoutSink = -1;
        if (shimFds[1] >= 0) {
            stdoutSink = openSink(stdoutTarget);
            startOutput("stdout", 1, stdoutSink, shared ? sharedRefs : new AtomicInteger(1));
        }
        if (shimFds[2] >= 0) {
            startOutput("stderr", 2, shared ? stdoutSink : openSink(stderrTarget), shared ? sharedRefs : new AtomicInteger(1));
        }
        if (shimFds[0] >= 0) {
            int reader = openStdinReader(stdio.stdin());
            int to = shimFds[0];
            shimFds[0] = -1;
            Pump.start(id + "-stdin", reader, to, null, () -> {
                // the client closed stdin (and CloseIO dropped our keep-alive writer): EOF for the process
                Posix.close(to);
                Posix.close(reader);
            });
        }
    }

    private void startOutput(String name, int index, int sink, AtomicInteger sinkRefs) {
        int from = shimFds[index];
        shimFds[index] = -1;
        Pump.start(id + "-" + name, from, sink, null, () -> {
            if (sinkRefs.decrementAndGet() == 0) Posix.close(sink);
            Posix.close(from);
            outputsDone.countDown();
        });
    }

    /**
     * Opens the stdin FIFO for reading and a keep-alive writer: the process only sees end of file once the
     * client has closed its end and called CloseIO (which closes the keep-alive), as with containerd.
     */
    private int openStdinReader(String path) throws IOException {
        int reader = Posix.open(path, Posix.O_RDONLY | Posix.O_NONBLOCK, 0);
        try {
            stdinKeepalive = Posix.open(path, Posix.O_WRONLY | Posix.O_NONBLOCK, 0);
            Posix.setNonBlocking(reader, false);
            return reader;
        } catch (IOException e) {
            Posix.close(reader);
            throw e;
        }
    }

    /** The descriptor output is written to: a FIFO opened read-write (never blocks, never EPIPE), or a file. */
    static int openSink(String path) throws IOException {
        if (isFifo(path)) return Posix.open(path, Posix.O_RDWR, 0);
        return Posix.open(path, Posix.O_WRONLY | Posix.O_APPEND, 0);
    }

    static boolean isFifo(String path) {
        try {
            return Files.readAttributes(Path.of(path), BasicFileAttributes.class).isOther();
        } catch (IOException e) {
            return false;
        }
    }

    /** Closes the stdin keep-alive (CloseIO). */
    public void closeStdin() {
        int fd = stdinKeepalive;
        stdinKeepalive = -1;
        Posix.close(fd);
    }

    /** Waits until stdout and stderr reached end of file and were written out; false on timeout. */
    public boolean awaitOutput(long millis) {
        try {
            return outputsDone.await(millis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private void startLogger(URI uri, String namespace) throws IOException {
        int[] out = Posix.pipe();
        int[] err = Posix.pipe();
        int[] ready = Posix.pipe();
        try {
            List<String> argv = new ArrayList<>();
            argv.add(uri.getPath());
            String q = uri.getRawQuery();
            if (q != null && !q.isEmpty()) {
                for (String kv : q.split("&")) {
                    int eq = kv.indexOf('=');
                    argv.add(URLDecoder.decode(eq < 0 ? kv : kv.substring(0, eq), StandardCharsets.UTF_8));
                    if (eq >= 0) argv.add(URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8));
                }
            }
            Map<String, String> env = new HashMap<>(System.getenv());
            env.put("CONTAINER_ID", id);
            env.put("CONTAINER_NAMESPACE", namespace);
            logger = Processes.get().spawn(new Processes.Command(argv, env, null,
                    new int[] {-1, -1, -1, out[0], err[0], ready[1]}, false));
            Posix.close(ready[1]);
            ready[1] = -1;
            awaitReady(ready[0]);
            childFds[1] = out[1];
            childFds[2] = err[1];
            toCloseAfterStart.add(out[1]);
            toCloseAfterStart.add(err[1]);
            out[1] = -1;
            err[1] = -1;
        } finally {
            Posix.close(out[0]);
            Posix.close(err[0]);
            Posix.close(out[1]);
            Posix.close(err[1]);
            Posix.close(ready[0]);
            Posix.close(ready[1]);
        }
    }

    /** The logging binary writes a byte (or closes fd 5) once it is ready. */
    private void awaitReady(int fd) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (Posix.pollIn(fd, 100) == 0) {
            if (logger.exit().isDone() || System.nanoTime() > deadline) break;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment b = arena.allocate(1);
            Posix.setNonBlocking(fd, true);
            long n = Posix.read(fd, b, 1, Posix.newErrnoState(arena));
            if (n < 0 && n != -Posix.EAGAIN) throw new ErrnoException("failed to read from logging binary", (int) -n);
        }
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        closeAfterStart();
        closeStdin();
        for (int i = 0; i < 3; i++) {
            Posix.close(shimFds[i]);
            shimFds[i] = -1;
        }
        Processes.Child l = logger;
        if (l != null && !l.exit().isDone()) {
            // give the logging binary time to flush, as containerd does, then insist
            try {
                Posix.kill(l.pid(), Posix.SIGTERM);
                l.exit().get(12, TimeUnit.SECONDS);
            } catch (Exception e) {
                try {
                    Posix.kill(l.pid(), Posix.SIGKILL);
                } catch (ErrnoException gone) {
                    // already exited
                }
            }
        }
    }
}
