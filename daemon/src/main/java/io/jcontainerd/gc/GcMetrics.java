package io.jcontainerd.gc;

import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * Publishes the collector's {@linkplain GarbageCollector#totals() totals} on a Prometheus registry,
 * read at scrape time. Only the metrics wiring loads this class (and the Prometheus client).
 */
public final class GcMetrics {
    private GcMetrics() {}

    public static void register(PrometheusRegistry registry, GarbageCollector gc) {
        CounterWithCallback.builder().name("jcontainerd_gc_collections")
                .help("Completed garbage collections.")
                .callback(cb -> cb.call(gc.totals().collections())).register(registry);
        CounterWithCallback.builder().name("jcontainerd_gc_failures")
                .help("Garbage collections whose metadata phase failed.")
                .callback(cb -> cb.call(gc.totals().failures())).register(registry);
        CounterWithCallback.builder().name("jcontainerd_gc_cleanup_failures")
                .help("Backend cleanups (content store, snapshotters) that failed and were left for the next collection.")
                .callback(cb -> cb.call(gc.totals().cleanupFailures())).register(registry);
        CounterWithCallback.builder().name("jcontainerd_gc_pause_seconds")
                .help("Time garbage collection held the metadata database (mark and sweep).")
                .callback(cb -> cb.call(gc.totals().totalTime().toNanos() / 1e9)).register(registry);
        GaugeWithCallback.builder().name("jcontainerd_gc_last_pause_seconds")
                .help("Time the last garbage collection held the metadata database.")
                .callback(cb -> cb.call(gc.totals().lastTime().toNanos() / 1e9)).register(registry);
        CounterWithCallback.builder().name("jcontainerd_gc_removed")
                .help("Resources removed by garbage collection, by type.")
                .labelNames("type")
                .callback(cb -> gc.totals().removed().forEach((t, n) -> cb.call(n, t.name()))).register(registry);
    }
}
