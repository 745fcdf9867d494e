package io.jcontainerd.shim.io;

/** A process's stdio as the client names it: FIFO paths or {@code file://} / {@code binary://} URIs. */
public record Stdio(String stdin, String stdout, String stderr, boolean terminal) {
    public Stdio {
        stdin = stdin == null ? "" : stdin;
        stdout = stdout == null ? "" : stdout;
        stderr = stderr == null ? "" : stderr;
    }

    /** No stdio at all: the process gets /dev/null. */
    public boolean isNull() {
        return stdin.isEmpty() && stdout.isEmpty() && stderr.isEmpty();
    }
}
