package io.jcontainerd.runtime.restart;

import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * Publishes the restart monitor's {@linkplain RestartMonitor#stats() work} on a Prometheus registry, read
 * at scrape time. Only the metrics wiring loads this class (and the Prometheus client).
 */
public final class RestartMetrics {
    private RestartMetrics() {}

    public static void register(PrometheusRegistry registry, RestartMonitor monitor) {
        CounterWithCallback.builder().name("jcontainerd_restart_monitor_passes")
                .help("Restart monitor passes over every namespace's labeled containers (at start, each interval, after missed exits).")
                .callback(cb -> cb.call(monitor.stats().passes())).register(registry);
        CounterWithCallback.builder().name("jcontainerd_restart_monitor_exits")
                .help("Task exits the restart monitor has dealt with.")
                .callback(cb -> cb.call(monitor.stats().exits())).register(registry);
        CounterWithCallback.builder().name("jcontainerd_restart_monitor_exit_reconciles")
                .help("Task exits whose container carried the restart status label and was reconciled on its own.")
                .callback(cb -> cb.call(monitor.stats().exitReconciles())).register(registry);
    }
}
