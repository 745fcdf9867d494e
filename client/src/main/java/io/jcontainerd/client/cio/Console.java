package io.jcontainerd.client.cio;

import io.jcontainerd.client.sys.Native;
import java.io.IOException;

/**
 * The terminal on the CLI's stdin: raw mode while a container's terminal is attached (keys go to
 * the container unprocessed), restored afterwards; its size, and resize notifications (SIGWINCH).
 */
public final class Console implements AutoCloseable {
    private static final int STDIN = 0;
    private static final int STDOUT = 1;
    private final Native.Termios saved;

    private Console(Native.Termios saved) {
        this.saved = saved;
    }

    /** The console on stdin, or null if stdin is not a terminal. */
    public static Console current() {
        if (!Native.isatty(STDIN)) return null;
        try {
            return new Console(Native.tcgetattr(STDIN));
        } catch (IOException e) {
            return null;
        }
    }

    public void setRaw() throws IOException {
        Native.tcsetattr(STDIN, Native.makeRaw(saved));
    }

    /** {width, height} of the terminal (stdin's, else stdout's), or null. */
    public int[] size() {
        int[] s = Native.windowSize(STDIN);
        return s != null ? s : Native.windowSize(STDOUT);
    }

    /** Calls {@code r} whenever the terminal is resized. */
    public void onResize(Runnable r) {
        sun.misc.Signal.handle(new sun.misc.Signal("WINCH"), sig -> r.run());
    }

    /** Restores the saved mode. */
    @Override
    public void close() {
        try {
            Native.tcsetattr(STDIN, saved);
        } catch (IOException ignored) {
            // the terminal went away
        }
    }
}
