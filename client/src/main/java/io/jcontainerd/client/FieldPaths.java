package io.jcontainerd.client;

import java.util.Collection;

/** Field paths for the services' Update masks. */
public final class FieldPaths {
    private FieldPaths() {}

    /** {@code labels.<key>} for each key: set (or, with an empty value, clear) just those labels. */
    public static String[] labels(Collection<String> keys) {
        return keys.stream().map(k -> "labels." + k).toArray(String[]::new);
    }
}
