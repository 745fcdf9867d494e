package io.jcontainerd.gc.scheduler;

import io.jcontainerd.gc.GarbageCollector;

/**
 * The instance of plugin {@code io.containerd.gc.v1.scheduler}: the collector (to register resources
 * and backend cleanups, mark deletions, read totals) and the scheduler (to report mutations and
 * deletions, and to trigger or wait for a collection).
 */
public record Gc(GarbageCollector collector, GcScheduler scheduler) implements AutoCloseable {
    @Override
    public void close() {
        scheduler.close();
    }
}
