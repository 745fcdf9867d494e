package io.jcontainerd.runtime;

import io.jcontainerd.config.Config;
import io.jcontainerd.config.GoDuration;
import java.time.Duration;
import java.util.Map;

/**
 * The runtime's entries of the daemon's {@code [timeouts]} table, under containerd's keys: how long a shim
 * may take to answer when reconnected at boot ({@code shim.load}), to run its {@code delete} action
 * ({@code shim.cleanup}) and to shut down ({@code shim.shutdown}), and how long a task's state may take
 * ({@code task.state}).
 */
public record Timeouts(Duration shimLoad, Duration shimCleanup, Duration shimShutdown, Duration taskState) {
    public static final String SHIM_LOAD = "io.containerd.timeout.shim.load";
    public static final String SHIM_CLEANUP = "io.containerd.timeout.shim.cleanup";
    public static final String SHIM_SHUTDOWN = "io.containerd.timeout.shim.shutdown";
    public static final String TASK_STATE = "io.containerd.timeout.task.state";

    public static Timeouts defaults() {
        return from(Config.defaults().timeouts());
    }

    /** From a {@code [timeouts]} table; a missing key keeps containerd's default, a malformed one is an error. */
    public static Timeouts from(Map<String, String> table) {
        Map<String, String> d = Config.defaults().timeouts();
        return new Timeouts(get(table, d, SHIM_LOAD), get(table, d, SHIM_CLEANUP), get(table, d, SHIM_SHUTDOWN),
                get(table, d, TASK_STATE));
    }

    private static Duration get(Map<String, String> table, Map<String, String> defaults, String key) {
        String v = table.getOrDefault(key, defaults.get(key));
        try {
            return GoDuration.parse(v);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("timeouts: " + key + ": " + e.getMessage(), e);
        }
    }
}
