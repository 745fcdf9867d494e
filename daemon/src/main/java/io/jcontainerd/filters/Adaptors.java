package io.jcontainerd.filters;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Ready-made {@link Adaptor}s for the usual shapes: plain fields, nested objects and label maps. */
public final class Adaptors {
    private Adaptors() {}

    /**
     * An object with top-level string fields and a {@code labels} map: {@code name}, {@code id},
     * {@code labels.foo}, {@code labels."a.b"}. A top-level field is present when non-empty.
     */
    public static Adaptor of(Map<String, String> fields, Map<String, String> labels) {
        Adaptor labelAdaptor = map(labels);
        return path -> {
            if (path.isEmpty()) return Optional.empty();
            if (path.getFirst().equals("labels")) return labelAdaptor.field(path.subList(1, path.size()));
            return path.size() == 1 ? nonEmpty(fields.get(path.getFirst())) : Optional.empty();
        };
    }

    /**
     * A string map such as labels, keyed by the rest of the path joined with {@code .} (so
     * {@code labels.a.b} and {@code labels."a.b"} find the same key). A key is present even if its
     * value is empty; an empty map has no keys at all.
     */
    public static Adaptor map(Map<String, String> map) {
        return path -> {
            if (map == null || map.isEmpty()) return Optional.empty();
            return Optional.ofNullable(map.get(String.join(".", path)));
        };
    }

    /**
     * An object given as a map of its fields. A value may be a {@link String} (present when
     * non-empty), a {@link Boolean} (always present), or an {@link Adaptor} that resolves the rest
     * of the path (a nested object, or a label map from {@link #map}); null means absent.
     * As with containerd's generated adaptors, path components after a scalar field are ignored.
     */
    public static Adaptor object(Map<String, ?> fields) {
        return path -> {
            if (path.isEmpty()) return Optional.empty();
            return switch (fields.get(path.getFirst())) {
                case null -> Optional.empty();
                case String s -> nonEmpty(s);
                case Boolean b -> Optional.of(b.toString());
                case Adaptor a -> a.field(rest(path));
                default -> Optional.empty();
            };
        };
    }

    private static List<String> rest(List<String> path) {
        return path.subList(1, path.size());
    }

    private static Optional<String> nonEmpty(String s) {
        return s == null || s.isEmpty() ? Optional.empty() : Optional.of(s);
    }
}
