package io.jcontainerd.gc.scheduler;

import io.jcontainerd.gc.GarbageCollector;
import io.jcontainerd.metadata.MetadataDb;

/**
 * The instance of plugin {@code io.containerd.gc.v1.scheduler}: the collector (to register resources
 * and backend cleanups, mark deletions, read totals), the scheduler (to report mutations and deletions,
 * and to trigger or wait for a collection), and the trigger it installed on the metadata database.
 */
public record Gc(GarbageCollector collector, GcScheduler scheduler, SchedulerTrigger trigger, MetadataDb db)
        implements AutoCloseable {
    @Override
    public void close() {
        if (db.gcTrigger() == trigger) db.setGcTrigger(null);
        scheduler.close();
    }
}
