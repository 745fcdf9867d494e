package io.jcontainerd.runtime.restart;

import io.jcontainerd.errdefs.ContainerdException;

/** How the monitor hands errors to the log. */
final class Logging {
    private Logging() {}

    /**
     * The error for the log's {@code error=} field. Expected failures (a ContainerdException: a task that
     * is gone, a bad label) recur every interval, so they go without their stack trace; anything else
     * keeps it.
     */
    static Throwable brief(Throwable e) {
        if (!(e instanceof ContainerdException c)) return e;
        ContainerdException b = new ContainerdException(c.kind(), c.getMessage());
        b.setStackTrace(new StackTraceElement[0]);
        return b;
    }
}
