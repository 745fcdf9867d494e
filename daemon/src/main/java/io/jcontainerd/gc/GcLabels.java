package io.jcontainerd.gc;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.DateTimeParseException;
import java.time.format.ResolverStyle;
import java.time.temporal.ChronoField;
import java.util.Map;

/** The labels through which objects steer garbage collection, read exactly as containerd reads them. */
public final class GcLabels {
    private GcLabels() {}

    /** Present (any value): the object is a root. */
    public static final String ROOT = "containerd.io/gc.root";
    /** {@code containerd.io/gc.ref.content}, or it followed by '.' or '/' and any name: value is a digest. */
    public static final String REF_CONTENT = "containerd.io/gc.ref.content";
    /** {@code containerd.io/gc.ref.snapshot.<snapshotter>[/<name>]}: value is a snapshot key. */
    public static final String REF_SNAPSHOT = "containerd.io/gc.ref.snapshot.";
    /** On a lease: RFC 3339 time after which the lease no longer protects anything. */
    public static final String EXPIRE = "containerd.io/gc.expire";
    /** Present on a lease: its resources are kept, but not what their labels reference. */
    public static final String FLAT = "containerd.io/gc.flat";

    // Go's time.RFC3339 as time.Parse reads it: seconds required, optional fraction, 'Z' or ±hh:mm.
    private static final DateTimeFormatter RFC3339 = new DateTimeFormatterBuilder()
            .appendValue(ChronoField.YEAR, 4).appendLiteral('-')
            .appendValue(ChronoField.MONTH_OF_YEAR, 2).appendLiteral('-')
            .appendValue(ChronoField.DAY_OF_MONTH, 2).appendLiteral('T')
            .appendValue(ChronoField.HOUR_OF_DAY, 2).appendLiteral(':')
            .appendValue(ChronoField.MINUTE_OF_HOUR, 2).appendLiteral(':')
            .appendValue(ChronoField.SECOND_OF_MINUTE, 2)
            .optionalStart().appendFraction(ChronoField.NANO_OF_SECOND, 1, 9, true).optionalEnd()
            .appendOffset("+HH:MM", "Z")
            .toFormatter()
            .withResolverStyle(ResolverStyle.STRICT)
            .withChronology(java.time.chrono.IsoChronology.INSTANCE);

    public static boolean isRoot(Map<String, String> labels) {
        return labels.containsKey(ROOT);
    }

    public static boolean isFlat(Map<String, String> labels) {
        return labels.containsKey(FLAT);
    }

    /**
     * Whether {@code containerd.io/gc.expire} lies strictly before {@code now}. A value that does not
     * parse is ignored (containerd logs it and keeps the lease).
     */
    public static boolean isExpired(Map<String, String> labels, Instant now) {
        Instant exp = expiry(labels.get(EXPIRE));
        return exp != null && now.isAfter(exp);
    }

    /** Parses an RFC 3339 time as Go's {@code time.Parse(time.RFC3339, v)} does; null if absent or invalid. */
    public static Instant expiry(String value) {
        if (value == null) return null;
        try {
            return OffsetDateTime.parse(value, RFC3339).toInstant();
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    /** Reports the content and snapshot references that {@code labels} declare, in {@code namespace}. */
    public static void references(String namespace, Map<String, String> labels, RefSink out) {
        for (Map.Entry<String, String> e : labels.entrySet()) {
            String k = e.getKey();
            if (k.startsWith(REF_CONTENT)) {
                // exactly the key, or the key followed by a '.' or '/' separated name
                if (k.length() == REF_CONTENT.length() || k.charAt(REF_CONTENT.length()) == '.'
                        || k.charAt(REF_CONTENT.length()) == '/') {
                    out.add(Node.content(namespace, e.getValue()));
                }
            } else if (k.startsWith(REF_SNAPSHOT)) {
                String snapshotter = k.substring(REF_SNAPSHOT.length());
                int slash = snapshotter.indexOf('/');
                if (slash >= 0) snapshotter = snapshotter.substring(0, slash);
                out.add(Node.snapshot(namespace, snapshotter, e.getValue()));
            }
        }
    }
}
