package io.jcontainerd.log;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.util.logging.ConsoleHandler;
import java.util.logging.Formatter;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Logging set-up: one line per record on stderr in containerd's logfmt shape
 * ({@code time="..." level=info msg="..."}), at the configured level.
 */
public final class Logs {
    private Logs() {}

    // held so that JUL cannot collect the logger and forget its level
    private static final Logger GRPC_LOG = Logger.getLogger("io.grpc");

    /** Applies a containerd level name (trace, debug, info, warn, error, fatal, panic); empty means info. */
    public static void configure(String level) {
        Level jul = toJul(level);
        Logger root = Logger.getLogger("");
        for (var h : root.getHandlers()) root.removeHandler(h);
        ConsoleHandler h = new ConsoleHandler();
        h.setLevel(jul);
        h.setFormatter(new Logfmt());
        root.addHandler(h);
        root.setLevel(jul);
        // grpc and netty are chatty below INFO and their debug output is not ours to show
        GRPC_LOG.setLevel(jul.intValue() < Level.INFO.intValue() ? Level.INFO : jul);
    }

    public static Level toJul(String level) {
        return switch (level == null ? "" : level.toLowerCase()) {
            case "", "info" -> Level.INFO;
            case "trace" -> Level.FINEST;
            case "debug" -> Level.FINE;
            case "warn", "warning" -> Level.WARNING;
            case "error", "fatal", "panic" -> Level.SEVERE;
            default -> throw new IllegalArgumentException("unknown log level \"" + level
                    + "\" (want trace, debug, info, warn, error, fatal or panic)");
        };
    }

    private static final class Logfmt extends Formatter {
        @Override
        public String format(LogRecord r) {
            StringBuilder b = new StringBuilder(128);
            b.append("time=\"").append(Instant.ofEpochMilli(r.getMillis())).append("\" level=").append(name(r.getLevel()))
                    .append(" msg=\"").append(escape(formatMessage(r))).append('"');
            if (r.getThrown() != null) {
                b.append(" error=\"").append(escape(String.valueOf(r.getThrown().getMessage()))).append('"');
                if (r.getLevel().intValue() < Level.INFO.intValue() || r.getLevel().intValue() >= Level.SEVERE.intValue()) {
                    StringWriter sw = new StringWriter();
                    r.getThrown().printStackTrace(new PrintWriter(sw));
                    b.append('\n').append(sw);
                }
            }
            return b.append('\n').toString();
        }

        private static String name(Level l) {
            int v = l.intValue();
            if (v >= Level.SEVERE.intValue()) return "error";
            if (v >= Level.WARNING.intValue()) return "warning";
            if (v >= Level.INFO.intValue()) return "info";
            if (v >= Level.FINE.intValue()) return "debug";
            return "trace";
        }

        private static String escape(String s) {
            return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
        }
    }
}
