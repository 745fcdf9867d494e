package io.jcontainerd.gc;

import java.time.Duration;
import java.util.Map;

/**
 * Cumulative collector statistics since start, for metrics: completed collections, failed ones
 * (metadata phase), failed backend cleanups, total and last metadata-phase time, removals by type.
 */
public record GcTotals(long collections, long failures, long cleanupFailures, Duration totalTime,
                       Duration lastTime, Map<ResourceType, Long> removed) {
    public GcTotals {
        removed = Map.copyOf(removed);
    }
}
