package io.jcontainerd.snapshots;

import io.jcontainerd.errdefs.Errdefs;
import java.util.Locale;

/** A snapshot's kind, with containerd's numbering (also the proto enum's) and lower-case names. */
public enum Kind {
    VIEW(1),
    ACTIVE(2),
    COMMITTED(3);

    private final int code;

    Kind(int code) {
        this.code = code;
    }

    /** The number containerd stores and the API sends (0 is "unknown"). */
    public int code() {
        return code;
    }

    /** "view", "active" or "committed", as filters and {@code ctr} spell it. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Kind ofCode(int code) {
        for (Kind k : values()) {
            if (k.code == code) return k;
        }
        throw Errdefs.invalidArgument("unknown snapshot kind %d", code);
    }

    /** Parses a kind name case-insensitively, as containerd's ParseKind. */
    public static Kind parse(String s) {
        for (Kind k : values()) {
            if (k.name().equalsIgnoreCase(s)) return k;
        }
        throw Errdefs.invalidArgument("unknown snapshot kind %s", s);
    }
}
