package io.jcontainerd.client.cli;

import io.jcontainerd.client.ClientException;
import io.jcontainerd.client.TasksClient;
import io.jcontainerd.client.cio.Console;
import io.jcontainerd.client.cio.TaskIo;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The part of run, tasks start/exec/attach that stays with a process until it exits: stdio over
 * FIFOs, the terminal in raw mode with size updates, signals forwarded (as ctr does), the exit status.
 */
final class Foreground {
    private Foreground() {}

    /** How long to wait for the shim to close stdout/stderr after the exit, before giving up on the rest. */
    private static final Duration DRAIN = Duration.ofSeconds(5);

    static Path fifoDir(String flag) {
        return flag == null || flag.isEmpty() ? TaskIo.DEFAULT_FIFO_DIR : Path.of(flag);
    }

    /** The FIFOs for a new process; with a terminal there is no stderr (ctr: streams con, con, nil). */
    static TaskIo newIo(Jctr root, Path fifoDir, String id, boolean tty) throws IOException {
        return TaskIo.create(fifoDir, id, tty, root.stdin, root.stdout, tty ? null : root.stderr);
    }

    /** The console to put in raw mode, when jctr itself runs on a terminal and the process has one. */
    static Console console(Jctr root, boolean tty) throws IOException {
        if (!tty || !root.standalone) return null;
        Console c = Console.current();
        if (c != null) c.setRaw();
        return c;
    }

    /** Waits for the process that {@code exit} follows, keeping its terminal sized and its signals forwarded. */
    static int await(Jctr root, TasksClient tasks, String id, String execId, CompletableFuture<TasksClient.ExitStatus> exit,
                     Console con, TaskIo io) {
        if (con != null) {
            Runnable resize = () -> {
                int[] s = con.size();
                if (s == null) return;
                try {
                    tasks.resizePty(id, execId, s[0], s[1]);
                } catch (ClientException ignored) {
                    // the process is gone
                }
            };
            resize.run();
            con.onResize(resize);
        } else if (root.standalone) {
            forwardSignals(tasks, id, execId);
        }
        TasksClient.ExitStatus st = TasksClient.join(exit);
        if (io != null) io.awaitOutput(DRAIN);
        try {
            root.stdout.flush();
        } catch (IOException ignored) {
            // nowhere to write to
        }
        return st.code();
    }

    private static void forwardSignals(TasksClient tasks, String id, String execId) {
        for (String name : List.of("INT", "TERM", "HUP", "USR1", "USR2")) {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal(name), sig -> {
                    try {
                        tasks.kill(id, execId, sig.getNumber(), false);
                    } catch (ClientException ignored) {
                        // the process is gone
                    }
                });
            } catch (IllegalArgumentException ignored) {
                // a signal the JVM keeps for itself
            }
        }
    }

    /** Signal names and numbers as Linux (x86_64, arm64) numbers them. */
    private static final List<String> SIGNALS = List.of("", "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL",
            "USR1", "SEGV", "USR2", "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG",
            "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS");

    /** A signal by number, name or SIG-name (containerd's ParseSignal). */
    static int signal(String s) {
        try {
            int n = Integer.parseInt(s);
            if (n > 0 && n < 65) return n;
        } catch (NumberFormatException notNumber) {
            String name = s.toUpperCase(java.util.Locale.ROOT);
            if (name.startsWith("SIG")) name = name.substring(3);
            int i = SIGNALS.indexOf(name);
            if (i > 0) return i;
        }
        throw ClientException.invalidArgument("unknown signal %s", s);
    }
}
