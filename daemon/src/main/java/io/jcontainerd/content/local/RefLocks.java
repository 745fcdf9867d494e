package io.jcontainerd.content.local;

import io.jcontainerd.content.Digest;
import io.jcontainerd.errdefs.Errdefs;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.temporal.ChronoField;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The process-wide table of ingest refs that have an open writer. It is static so that two store
 * instances over the same root exclude each other, as containerd's package-level lock map does; keys
 * include the root so that unrelated stores (tests) do not.
 */
final class RefLocks {
    private RefLocks() {}

    /** One held lock; {@code expected} is what the holding writer was told to expect (null if nothing). */
    record Held(String key, String ref, Instant since, Digest expected) {}

    private static final ConcurrentHashMap<String, Held> HELD = new ConcurrentHashMap<>();
    private static final int ATTEMPTS = 10;

    private static String key(Path root, String ref) {
        return root + "\0" + ref;
    }

    /**
     * Takes the lock of {@code ref}, retrying briefly with randomized back-off (as containerd does, so
     * that a writer that is just closing does not fail a quick re-open); then Unavailable.
     */
    static Held acquire(Path root, String ref, Digest expected) {
        String key = key(root, ref);
        Held holder = null;
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            Held mine = new Held(key, ref, Instant.now(), expected);
            holder = HELD.putIfAbsent(key, mine);
            if (holder == null) return mine;
            if (attempt + 1 < ATTEMPTS) {
                try {
                    Thread.sleep(ThreadLocalRandom.current().nextInt(1 << attempt));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        Instant since = holder.since();
        throw Errdefs.unavailable("ref %s locked for %s (since %s): unavailable", ref,
                goDuration(Duration.between(since, Instant.now())), goTime(since));
    }

    static void release(Held h) {
        HELD.remove(h.key(), h);
    }

    /** The current holder of {@code ref}'s lock, or null. */
    static Held holder(Path root, String ref) {
        return HELD.get(key(root, ref));
    }

    /** A duration as Go prints it ({@code 1.5ms}, {@code 2m3.25s}), for messages shaped like containerd's. */
    static String goDuration(Duration d) {
        long n = d.toNanos();
        if (n < 0) return "-" + goDuration(d.negated());
        if (n == 0) return "0s";
        if (n < 1_000) return n + "ns";
        if (n < 1_000_000) return fraction(n, 1_000) + "µs";
        if (n < 1_000_000_000) return fraction(n, 1_000_000) + "ms";
        long h = n / 3_600_000_000_000L;
        long m = n / 60_000_000_000L % 60;
        String s = fraction(n % 60_000_000_000L, 1_000_000_000) + "s";
        if (h > 0) return h + "h" + m + "m" + s;
        return m > 0 ? m + "m" + s : s;
    }

    private static String fraction(long v, long unit) {
        long whole = v / unit, rest = v % unit;
        if (rest == 0) return Long.toString(whole);
        String digits = Long.toString(unit + rest).substring(1).replaceFirst("0+$", "");
        return whole + "." + digits;
    }

    private static String goTime(Instant t) {
        DateTimeFormatter f = new DateTimeFormatterBuilder().appendPattern("yyyy-MM-dd HH:mm:ss")
                .appendFraction(ChronoField.NANO_OF_SECOND, 0, 9, true).appendPattern(" xx z").toFormatter();
        return f.format(ZonedDateTime.ofInstant(t, ZoneId.systemDefault()));
    }
}
