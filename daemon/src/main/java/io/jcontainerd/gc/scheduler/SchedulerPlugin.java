package io.jcontainerd.gc.scheduler;

import io.jcontainerd.gc.ContainerGcResource;
import io.jcontainerd.gc.ContentBackendCleanup;
import io.jcontainerd.gc.ImageGcResource;
import io.jcontainerd.gc.SnapshotBackendCleanup;
import io.jcontainerd.gc.SnapshotGcResource;
import io.jcontainerd.gc.ContentGcResource;
import io.jcontainerd.gc.GarbageCollector;
import io.jcontainerd.gc.IngestGcResource;
import io.jcontainerd.gc.LeaseGcResource;
import io.jcontainerd.metadata.MetadataDb;
import io.jcontainerd.plugin.PluginProvider;
import io.jcontainerd.plugin.PluginType;
import io.jcontainerd.plugin.Registration;
import java.util.List;

/**
 * Registers {@code io.containerd.gc.v1.scheduler} (requires the metadata plugin): the collector with
 * the resources that exist in the metadata schema, the content backend cleanup when the metadata layer
 * wraps a content store, and the scheduler, started right away and installed as the metadata
 * database's {@link io.jcontainerd.metadata.GcTrigger}.
 */
public final class SchedulerPlugin implements PluginProvider {

    @Override
    public List<Registration> registrations() {
        return List.of(new Registration(PluginType.GC, "scheduler", List.of(PluginType.METADATA),
                SchedulerConfig.defaults(), ic -> {
                    SchedulerConfig cfg = ic.config(SchedulerConfig.class);
                    MetadataDb db = ic.plugins().single(PluginType.METADATA, MetadataDb.class);
                    GarbageCollector collector = new GarbageCollector(db, ic.clock());
                    collector.register(new LeaseGcResource());
                    collector.register(new ContentGcResource());
                    collector.register(new IngestGcResource());
                    collector.register(new ImageGcResource());
                    collector.register(new ContainerGcResource());
                    collector.register(new SnapshotGcResource());
                    db.snapshotters().values().forEach(sn -> collector.register(new SnapshotBackendCleanup(sn)));
                    // the backend the metadata layer wraps, so both agree on what is referenced
                    if (db.hasContent()) collector.register(new ContentBackendCleanup(db.content().backend()));
                    GcScheduler scheduler = new GcScheduler(collector::collect, cfg, ic.clock(),
                            new ExecutorTimer("gc-scheduler"));
                    SchedulerTrigger trigger = new SchedulerTrigger(collector, scheduler);
                    db.setGcTrigger(trigger);
                    ic.exports().putAll(scheduler.exports());
                    scheduler.start();
                    return new Gc(collector, scheduler, trigger, db);
                }));
    }
}
