package io.jcontainerd.runtime.restart;

import java.time.Duration;

/**
 * {@code [plugins."io.containerd.internal.v1.restart"]}: containerd's one key.
 *
 * @param interval how often every labeled container is reconciled (Go duration; 0 means the default)
 */
public record RestartConfig(Duration interval) {
    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(10);

    public static RestartConfig defaults() {
        return new RestartConfig(DEFAULT_INTERVAL);
    }

    /** The interval in force: containerd treats zero as the default. */
    Duration effectiveInterval() {
        return interval == null || interval.isZero() ? DEFAULT_INTERVAL : interval;
    }
}
