package io.jcontainerd.gc;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;

/**
 * One collection: when it started, how long the metadata phase (mark and sweep, the time the metadata
 * lock is held) took, what it removed by type, and each backend cleanup's duration or failure.
 */
public record GcStats(Instant startedAt, Duration metadata, Map<ResourceType, Integer> removed,
                      Map<String, Duration> cleanups, Map<String, String> cleanupFailures) {

    public GcStats {
        removed = Map.copyOf(removed);
        cleanups = Map.copyOf(cleanups);
        cleanupFailures = Map.copyOf(cleanupFailures);
    }

    /** The pause the scheduler accounts for (containerd's {@code Elapsed}: the metadata phase only). */
    public Duration elapsed() {
        return metadata;
    }

    public int removed(ResourceType type) {
        return removed.getOrDefault(type, 0);
    }
}
