package io.jcontainerd.shim.util;

import io.jcontainerd.shim.sys.Posix;
import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;

/**
 * The shim's log: logfmt lines ({@code time=... level=... msg=...}, what containerd's daemon relays
 * from its shims) written to the {@code log} FIFO the daemon opened in the bundle, or to stderr. The FIFO
 * is written non-blocking: when the daemon is not reading (restarting, dead) lines are dropped rather than
 * stalling the shim.
 */
public final class Log {
    private Log() {}

    private static volatile int fd = 2;
    private static volatile boolean debug;
    private static volatile String prefix = "";

    /** Sends the log to {@code fd} with fields (e.g. {@code namespace=x}) on every line. */
    public static void configure(int logFd, boolean debugEnabled, String fields) {
        fd = logFd;
        debug = debugEnabled;
        prefix = fields == null ? "" : fields;
    }

    public static boolean debugEnabled() {
        return debug;
    }

    public static void debug(String msg) {
        if (debug) write("debug", msg, null);
    }

    public static void info(String msg) {
        write("info", msg, null);
    }

    public static void warn(String msg, Throwable t) {
        write("warning", msg, t);
    }

    public static void error(String msg, Throwable t) {
        write("error", msg, t);
    }

    private static void write(String level, String msg, Throwable t) {
        StringBuilder b = new StringBuilder(128);
        b.append("time=\"").append(OffsetDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME)).append("\" level=")
                .append(level).append(" msg=");
        quote(b, msg);
        if (t != null) {
            b.append(" error=");
            quote(b, t.getMessage() == null ? t.toString() : t.getMessage());
        }
        if (!prefix.isEmpty()) b.append(' ').append(prefix);
        b.append('\n');
        byte[] bytes = b.toString().getBytes(StandardCharsets.UTF_8);
        synchronized (Log.class) {
            Posix.write(fd, bytes);
        }
    }

    private static void quote(StringBuilder b, String s) {
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') b.append('\\').append(c);
            else if (c == '\n') b.append("\\n");
            else b.append(c);
        }
        b.append('"');
    }
}
