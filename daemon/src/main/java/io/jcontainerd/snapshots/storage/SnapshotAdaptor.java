package io.jcontainerd.snapshots.storage;

import io.jcontainerd.filters.Adaptor;
import io.jcontainerd.snapshots.Info;
import java.util.List;
import java.util.Optional;

/**
 * The fields a snapshot filter can select, as containerd's: {@code kind} (active, view, committed),
 * {@code name}, {@code parent} (present even when empty) and {@code labels.<key>}.
 */
public final class SnapshotAdaptor {
    private SnapshotAdaptor() {}

    public static Adaptor of(Info info) {
        return (List<String> path) -> {
            if (path.isEmpty()) return Optional.empty();
            return switch (path.getFirst()) {
                case "kind" -> info.kind() == null ? Optional.empty() : Optional.of(info.kind().label());
                case "name" -> Optional.of(info.name());
                case "parent" -> Optional.of(info.parent());
                case "labels" -> info.labels().isEmpty() ? Optional.empty()
                        : Optional.ofNullable(info.labels().get(String.join(".", path.subList(1, path.size()))));
                default -> Optional.empty();
            };
        };
    }
}
