package io.jcontainerd.shim.task;

import io.jcontainerd.errdefs.ContainerdException;
import io.jcontainerd.errdefs.ErrorKind;
import io.jcontainerd.shim.io.Console;
import io.jcontainerd.shim.io.ProcessIo;
import io.jcontainerd.shim.io.Stdio;
import io.jcontainerd.shim.proc.Exit;
import io.jcontainerd.sys.ErrnoException;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * What the init process and exec processes share: pid, state, stdio, and the exit status, recorded
 * exactly once. Methods synchronize on the process, as containerd's per-process mutex does.
 */
abstract sealed class Proc permits InitProcess, ExecProcess {
    /** Go's zero time.Time, which containerd 1.6 reports as exited_at while a process runs. */
    static final Instant ZERO_TIME = Instant.parse("0001-01-01T00:00:00Z");
    /** How long exit handling waits for stdout/stderr to drain before reporting the exit anyway. */
    static final long OUTPUT_DRAIN_MILLIS = 2000;

    enum State { CREATED, RUNNING, PAUSED, STOPPED, DELETED }

    final String id;
    final Stdio stdio;
    volatile int pid;
    volatile State state = State.CREATED;
    private int exitStatus;
    private Instant exitedAt = ZERO_TIME;
    /** Completed once the exit status is recorded (what Wait waits for). */
    final CompletableFuture<Void> exited = new CompletableFuture<>();
    /** Completed once TaskExit for this process has been queued. */
    final CompletableFuture<Void> exitPublished = new CompletableFuture<>();
    ProcessIo io;
    Console console;

    Proc(String id, Stdio stdio) {
        this.id = id;
        this.stdio = stdio;
    }

    static ContainerdException unknown(String msg) {
        return new ContainerdException(ErrorKind.UNKNOWN, msg);
    }

    synchronized int exitStatus() {
        return exitStatus;
    }

    synchronized Instant exitedAt() {
        return exitedAt;
    }

    /** Status as containerd reports it; overridden where a parent's pause matters. */
    String status() {
        return switch (state) {
            case CREATED -> "created";
            case RUNNING -> "running";
            case PAUSED -> "paused";
            case STOPPED, DELETED -> "stopped";
        };
    }

    /** Records the exit once; later calls are ignored. */
    synchronized boolean setExited(Exit e) {
        if (exited.isDone()) return false;
        exitStatus = e.status();
        exitedAt = e.at();
        if (state != State.DELETED) state = State.STOPPED;
        exited.complete(null);
        return true;
    }

    /** Waits (bounded) until the process's output is written out, so no byte arrives after its exit event. */
    void drainOutput() {
        if (io != null) io.awaitOutput(OUTPUT_DRAIN_MILLIS);
        if (console != null) console.awaitOutput(OUTPUT_DRAIN_MILLIS);
    }

    void closeIo() {
        if (io != null) io.close();
        if (console != null) console.close();
    }

    void closeStdin() {
        if (io != null) io.closeStdin();
        if (console != null) console.closeStdin();
    }

    void resize(int width, int height) throws ErrnoException {
        if (console != null) console.resize(width, height);
    }

    /** Waits for the recorded exit (Wait). */
    void awaitExit() throws InterruptedException {
        try {
            exited.get();
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }

    boolean awaitExitPublished(long millis) {
        try {
            exitPublished.get(millis, TimeUnit.MILLISECONDS);
            return true;
        } catch (Exception e) {
            return false;
        }
    }
}
