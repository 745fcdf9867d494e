package io.jcontainerd.content;

import java.time.Instant;
import java.util.Map;

/** What is known about one committed blob. */
public record Info(Digest digest, long size, Instant createdAt, Instant updatedAt, Map<String, String> labels) {
    public Info {
        labels = Map.copyOf(labels);
    }
}
