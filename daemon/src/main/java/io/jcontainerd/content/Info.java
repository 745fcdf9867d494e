package io.jcontainerd.content;

import io.jcontainerd.filters.Adaptor;
import io.jcontainerd.filters.Adaptors;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/** What is known about one committed blob. */
public record Info(Digest digest, long size, Instant createdAt, Instant updatedAt, Map<String, String> labels) {
    public Info {
        labels = Map.copyOf(labels);
    }

    /**
     * The fields content filters see, as containerd's: {@code digest} and {@code labels.<key>}
     * ({@code size} is reserved there but never matches, so it is absent here too).
     */
    public Adaptor adaptor() {
        Adaptor labelAdaptor = Adaptors.map(labels);
        return path -> {
            if (path.isEmpty()) return Optional.empty();
            return switch (path.getFirst()) {
                case "digest" -> Optional.of(digest.toString());
                case "labels" -> labelAdaptor.field(path.subList(1, path.size()));
                default -> Optional.empty();
            };
        };
    }
}
