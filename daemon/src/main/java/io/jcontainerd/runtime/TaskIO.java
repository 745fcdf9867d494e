package io.jcontainerd.runtime;

/** The stdio a process gets: FIFO or file paths the client made (empty: none), and whether it has a terminal. */
public record TaskIO(String stdin, String stdout, String stderr, boolean terminal) {
    public TaskIO {
        stdin = stdin == null ? "" : stdin;
        stdout = stdout == null ? "" : stdout;
        stderr = stderr == null ? "" : stderr;
    }
}
