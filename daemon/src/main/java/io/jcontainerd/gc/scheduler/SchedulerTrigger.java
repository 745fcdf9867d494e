package io.jcontainerd.gc.scheduler;

import io.jcontainerd.errdefs.ContainerdException;
import io.jcontainerd.errdefs.ErrorKind;
import io.jcontainerd.gc.GarbageCollector;
import io.jcontainerd.gc.GcStats;
import io.jcontainerd.gc.Node;
import io.jcontainerd.metadata.GcTrigger;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/** The metadata layer's view of the collector ({@link io.jcontainerd.metadata.MetadataDb#setGcTrigger}). */
public final class SchedulerTrigger implements GcTrigger {
    private final GarbageCollector collector;
    private final GcScheduler scheduler;

    public SchedulerTrigger(GarbageCollector collector, GcScheduler scheduler) {
        this.collector = collector;
        this.scheduler = scheduler;
    }

    /**
     * Triggers a collection; with {@code wait}, blocks until one that started after this call has
     * finished. A failed collection is Unknown "gc failed" (containerd's message); an interrupted
     * or closed wait is Canceled. Never call it inside a metadata transaction: the collection needs one.
     */
    @Override
    public void collect(boolean wait) {
        CompletableFuture<GcStats> f = scheduler.scheduleAndWait();
        if (!wait) return;
        try {
            f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ContainerdException(ErrorKind.CANCELED, "waiting for gc: interrupted", e);
        } catch (CancellationException e) {
            throw new ContainerdException(ErrorKind.CANCELED, "waiting for gc: " + e.getMessage(), e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof CancellationException c) {
                throw new ContainerdException(ErrorKind.CANCELED, "waiting for gc: " + c.getMessage(), c);
            }
            throw new ContainerdException(ErrorKind.UNKNOWN, "gc failed", e.getCause());
        }
    }

    /** A committed deletion: every backend may now hold garbage, and the scheduler counts a deletion. */
    @Override
    public void dirty() {
        collector.markAllDirty();
        scheduler.deletionOccurred();
    }

    /** A committed snapshot Remove: only that snapshotter's backend cleanup becomes pending. */
    @Override
    public void snapshotRemoved(String namespace, String snapshotter, String key) {
        collector.markDirty(Node.snapshot(namespace, snapshotter, key));
        scheduler.deletionOccurred();
    }

    /** A committed mutation that deleted nothing (counts toward {@code mutation_threshold}). */
    @Override
    public void mutated() {
        scheduler.mutationOccurred();
    }
}
