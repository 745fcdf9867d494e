package io.jcontainerd.gc;

import io.jcontainerd.metadata.MetadataDb;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The collector: marks everything reachable from the registered resources' roots and removes the
 * metadata of every other node, all in one metadata write transaction (so nothing changes between mark
 * and sweep), then runs the backend cleanups that may have something to do.
 *
 * <p>A backend cleanup is pending when the sweep removed a node it is {@linkplain
 * BackendCleanup#affectedBy affected by}, when a subsystem {@linkplain #markDirty marked} such a node
 * deleted, when it failed last time, and, once, after registration, so that the first collection
 * after a restart finishes whatever a crash interrupted.
 */
public final class GarbageCollector {
    private static final Logger LOG = System.getLogger(GarbageCollector.class.getName());

    private final MetadataDb db;
    private final Clock clock;
    private final Map<ResourceType, GcResource> resources = new LinkedHashMap<>(); // guarded by this
    private final List<BackendCleanup> cleanups = new CopyOnWriteArrayList<>();
    private final Set<BackendCleanup> pending = ConcurrentHashMap.newKeySet();
    private final ReentrantLock running = new ReentrantLock();

    private final AtomicLong collections = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();
    private final AtomicLong cleanupFailures = new AtomicLong();
    private final AtomicLong totalNanos = new AtomicLong();
    private final AtomicLong lastNanos = new AtomicLong();
    private final Map<ResourceType, AtomicLong> removedTotal = new ConcurrentHashMap<>();

    public GarbageCollector(MetadataDb db, Clock clock) {
        this.db = db;
        this.clock = clock;
    }

    public MetadataDb db() {
        return db;
    }

    /** Adds a subsystem's resources to the graph; one resource per type. */
    public synchronized void register(GcResource resource) {
        if (resources.putIfAbsent(resource.type(), resource) != null) {
            throw new IllegalStateException("gc resource " + resource.type() + " is already registered");
        }
    }

    /** Adds a backend cleanup; it is pending until it has run once. */
    public void register(BackendCleanup cleanup) {
        cleanups.add(cleanup);
        pending.add(cleanup);
    }

    /**
     * Tells the collector that a subsystem deleted {@code removed}'s metadata itself (e.g. a content
     * Delete), so the backends it affects get cleaned at the next collection.
     */
    public void markDirty(Node removed) {
        for (BackendCleanup c : cleanups) {
            if (c.affectedBy(removed)) pending.add(c);
        }
    }

    /** Makes every backend cleanup pending, for deletions reported without saying what went. */
    public void markAllDirty() {
        pending.addAll(cleanups);
    }

    /**
     * Runs one collection. A failure of the metadata phase (nothing removed) is thrown; a backend
     * cleanup failure is logged, reported in the stats, and retried next time.
     */
    public GcStats collect() {
        running.lock();
        try {
            return collectLocked();
        } finally {
            running.unlock();
        }
    }

    private GcStats collectLocked() {
        List<GcResource> rs;
        synchronized (this) {
            rs = List.copyOf(resources.values());
        }
        Map<ResourceType, GcResource> byType = new HashMap<>();
        for (GcResource r : rs) byType.put(r.type(), r);

        Instant now = clock.instant();
        long t0 = System.nanoTime();
        Map<ResourceType, Integer> removed = new LinkedHashMap<>();
        Set<BackendCleanup> dirty = new LinkedHashSet<>();
        try {
            db.update(tx -> {
                removed.clear();
                dirty.clear();
                List<Tricolor.Ref> roots = new ArrayList<>();
                for (GcResource r : rs) r.roots(tx, now, (n, flat) -> roots.add(new Tricolor.Ref(n, flat)));
                Set<Node> live = Tricolor.mark(roots, (n, flat, out) -> {
                    GcResource owner = byType.get(n.type());
                    if (owner != null) owner.references(tx, n, flat, out);
                });
                for (GcResource r : rs) {
                    for (Node n : r.all(tx)) {
                        if (live.contains(n)) continue;
                        r.remove(tx, n);
                        removed.merge(r.type(), 1, Integer::sum);
                        for (BackendCleanup c : cleanups) {
                            if (c.affectedBy(n)) dirty.add(c);
                        }
                    }
                }
                return null;
            });
        } catch (RuntimeException e) {
            failures.incrementAndGet();
            throw e;
        }
        long metaNanos = System.nanoTime() - t0;
        pending.addAll(dirty);
        collections.incrementAndGet();
        totalNanos.addAndGet(metaNanos);
        lastNanos.set(metaNanos);
        removed.forEach((t, n) -> removedTotal.computeIfAbsent(t, _ -> new AtomicLong()).addAndGet(n));
        if (!removed.isEmpty()) LOG.log(Level.DEBUG, "garbage collected metadata: {0}", removed);

        Map<String, Duration> cleaned = new LinkedHashMap<>();
        Map<String, String> failed = new LinkedHashMap<>();
        for (BackendCleanup c : cleanups) {
            if (!pending.remove(c)) continue;
            long c0 = System.nanoTime();
            try {
                c.cleanup(db);
                cleaned.put(c.name(), Duration.ofNanos(System.nanoTime() - c0));
            } catch (Exception | LinkageError e) {
                pending.add(c); // the next collection retries
                cleanupFailures.incrementAndGet();
                failed.put(c.name(), String.valueOf(e.getMessage()));
                LOG.log(Level.WARNING, c.name() + " garbage collection failed: " + e.getMessage(), e);
            }
        }
        return new GcStats(now, Duration.ofNanos(metaNanos), removed, cleaned, failed);
    }

    public GcTotals totals() {
        Map<ResourceType, Long> removed = new LinkedHashMap<>();
        removedTotal.forEach((t, n) -> removed.put(t, n.get()));
        return new GcTotals(collections.get(), failures.get(), cleanupFailures.get(),
                Duration.ofNanos(totalNanos.get()), Duration.ofNanos(lastNanos.get()), removed);
    }
}
