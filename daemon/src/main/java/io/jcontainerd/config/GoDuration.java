package io.jcontainerd.config;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Duration;

/**
 * Durations in Go's {@code time.Duration} text form, which containerd configs use ("5s", "100ms",
 * "1m30s", "1.5h"): parsing accepts what Go's {@code ParseDuration} accepts, formatting produces what
 * Go's {@code Duration.String} produces. The range is Go's: a signed 64-bit count of nanoseconds.
 */
public final class GoDuration {
    private GoDuration() {}

    private static final long MICRO = 1_000L, MILLI = 1_000_000L, SECOND = 1_000_000_000L;

    /** Parses Go duration syntax; throws {@link IllegalArgumentException} with Go-like wording. */
    public static Duration parse(String text) {
        String s = text;
        boolean neg = false;
        if (!s.isEmpty() && (s.charAt(0) == '-' || s.charAt(0) == '+')) {
            neg = s.charAt(0) == '-';
            s = s.substring(1);
        }
        if (s.equals("0")) return Duration.ZERO;
        if (s.isEmpty()) throw invalid(text);
        long total = 0;
        int i = 0;
        while (i < s.length()) {
            int start = i;
            while (i < s.length() && isDigit(s.charAt(i))) i++;
            boolean whole = i > start;
            int dot = i;
            if (i < s.length() && s.charAt(i) == '.') {
                i++;
                while (i < s.length() && isDigit(s.charAt(i))) i++;
            }
            boolean frac = i > dot + 1;
            if (!whole && !frac) throw invalid(text);
            String number = s.substring(start, i);
            int unitStart = i;
            while (i < s.length() && s.charAt(i) != '.' && !isDigit(s.charAt(i))) i++;
            if (unitStart == i) throw new IllegalArgumentException("missing unit in duration \"" + text + "\"");
            String unit = s.substring(unitStart, i);
            long scale = switch (unit) {
                case "ns" -> 1L;
                case "us", "\u00b5s", "\u03bcs" -> MICRO;
                case "ms" -> MILLI;
                case "s" -> SECOND;
                case "m" -> 60 * SECOND;
                case "h" -> 3600 * SECOND;
                default -> throw new IllegalArgumentException(
                        "unknown unit \"" + unit + "\" in duration \"" + text + "\"");
            };
            try {
                total = Math.addExact(total, nanos(number, scale));
            } catch (ArithmeticException e) {
                throw invalid(text);
            }
        }
        return Duration.ofNanos(neg ? -total : total);
    }

    /**
     * {@code number} (digits with at most one dot) times {@code scale}, truncated; ArithmeticException past
     * the long range. Whole numbers, which is what configs and defaults hold, stay off BigDecimal: its class
     * initialization (BigInteger's caches) costs ~15 ms of the boot, where the runtime reads its timeouts.
     */
    private static long nanos(String number, long scale) {
        if (number.indexOf('.') < 0) {
            long v = 0;
            for (int i = 0; i < number.length(); i++) v = Math.addExact(Math.multiplyExact(v, 10), number.charAt(i) - '0');
            return Math.multiplyExact(v, scale);
        }
        return new BigDecimal(number.endsWith(".") ? number + "0" : number.startsWith(".") ? "0" + number : number)
                .multiply(BigDecimal.valueOf(scale)).setScale(0, RoundingMode.DOWN).longValueExact();
    }

    /** Go's rendering: "0s", "1.5µs", "100ms", "5s", "1m30s", "2h0m0s". */
    public static String format(Duration d) {
        long n = d.toNanos();
        if (n == 0) return "0s";
        boolean neg = n < 0;
        long u = neg ? -n : n; // read unsigned below, so Long.MIN_VALUE stays correct
        StringBuilder sb = new StringBuilder();
        if (Long.compareUnsigned(u, SECOND) < 0) {
            if (u < MICRO) {
                sb.append(u).append("ns");
            } else if (u < MILLI) {
                sb.append(decimal(u, MICRO)).append("\u00b5s");
            } else {
                sb.append(decimal(u, MILLI)).append("ms");
            }
        } else {
            String seconds = decimal(Long.remainderUnsigned(u, 60 * SECOND), SECOND);
            long minutes = Long.divideUnsigned(u, 60 * SECOND);
            if (minutes > 0) {
                long hours = minutes / 60;
                if (hours > 0) sb.append(hours).append('h');
                sb.append(minutes % 60).append('m');
            }
            sb.append(seconds).append('s');
        }
        return neg ? "-" + sb : sb.toString();
    }

    /** v/unit with the fraction's trailing zeros dropped (v is non-negative here). */
    private static String decimal(long v, long unit) {
        long whole = v / unit, frac = v % unit;
        if (frac == 0) return Long.toString(whole);
        String digits = Long.toString(unit + frac).substring(1); // zero-padded to the unit's width
        int end = digits.length();
        while (digits.charAt(end - 1) == '0') end--;
        return whole + "." + digits.substring(0, end);
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private static IllegalArgumentException invalid(String text) {
        return new IllegalArgumentException("invalid duration \"" + text + "\"");
    }
}
