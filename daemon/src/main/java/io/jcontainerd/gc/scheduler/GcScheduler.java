package io.jcontainerd.gc.scheduler;

import io.jcontainerd.config.GoDuration;
import io.jcontainerd.gc.GcStats;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;

/**
 * Decides when to collect garbage, as containerd's gc scheduler does: a collection is scheduled
 * {@code schedule_delay} after a manual trigger, after {@code deletion_threshold} deletions (or the
 * first deletion when nothing is scheduled and the threshold is 0), or after {@code
 * mutation_threshold} mutations when nothing is scheduled; after each collection the next check is
 * {@code interval} away, where interval keeps the average pause under {@code pause_threshold} of real
 * time (1s while the threshold is 0). A check with nothing to do (no trigger, no deletion, fewer
 * mutations than the threshold) just waits another interval. A failed collection is retried after the
 * previous spacing plus a second.
 *
 * <p>Events are counted on the caller's thread under a lock; collections run on the {@link Timer}'s
 * thread. As in containerd, mutations reported while a collection runs are not counted (they predate
 * its end), and a trigger during a collection waits for the next one.
 */
public final class GcScheduler implements AutoCloseable {
    private static final Logger LOG = System.getLogger(GcScheduler.class.getName());
    private static final Duration SECOND = Duration.ofSeconds(1);

    /** Runs one collection. */
    @FunctionalInterface
    public interface Collector {
        GcStats collect() throws Exception;
    }

    private final Collector collector;
    private final Clock clock;
    private final Timer timer;
    private final double pauseThreshold;
    private final int deletionThreshold;
    private final int mutationThreshold;
    private final Duration scheduleDelay;
    private final Duration startupDelay;

    private final Object lock = new Object();
    // all below guarded by lock
    private Timer.Handle scheduled;
    private Instant nextCollection;
    private Instant lastCollection;
    private Duration interval = SECOND;
    private long gcTimeNanos;
    private long collections;
    private boolean triggered;
    private int deletions;
    /**
     * Deletions committed while a collection runs. containerd drops such events (its collection holds the
     * database for its whole run, so they predate its mark); ours cleans backends after releasing the
     * database, so a deletion can land after the sweep and must count for the next collection.
     */
    private int deletionsDuringCollection;
    private int mutations;
    private boolean dirty; // a deletion happened since the last collection started (containerd's db.dirty)
    private boolean collecting;
    private boolean triggerAfterCollection;
    private List<CompletableFuture<GcStats>> waiters = new ArrayList<>();
    private final List<CompletableFuture<GcStats>> nextWaiters = new ArrayList<>();
    private boolean started;
    private boolean closed;

    public GcScheduler(Collector collector, SchedulerConfig config, Clock clock, Timer timer) {
        this.collector = collector;
        this.clock = clock;
        this.timer = timer;
        this.pauseThreshold = Math.min(0.5, Math.max(0.0, config.pauseThreshold()));
        this.deletionThreshold = config.deletionThreshold();
        this.mutationThreshold = Math.max(0, config.mutationThreshold());
        this.scheduleDelay = config.scheduleDelay().isNegative() ? Duration.ZERO : config.scheduleDelay();
        this.startupDelay = config.startupDelay().isNegative() ? Duration.ZERO : config.startupDelay();
    }

    /** Schedules the start-up collection ({@code startup_delay} from now, if positive). */
    public void start() {
        synchronized (lock) {
            if (started || closed) return;
            started = true;
            if (startupDelay.isPositive()) schedule(startupDelay);
        }
    }

    /** Reports a committed metadata change that deleted nothing. */
    public void mutationOccurred() {
        synchronized (lock) {
            event(true, dirty);
        }
    }

    /** Reports a committed metadata change that deleted something (a reference may be gone). */
    public void deletionOccurred() {
        synchronized (lock) {
            dirty = true;
            event(true, true);
        }
    }

    /**
     * Triggers a collection ({@code schedule_delay} from now, or sooner if one is already due) and
     * returns its outcome: completed with the stats of the first collection that starts after this call
     * (a collection already running does not count), or exceptionally if it fails or the scheduler
     * closes. What containerd's {@code ScheduleAndWait} does for synchronous lease deletion.
     */
    public CompletableFuture<GcStats> scheduleAndWait() {
        CompletableFuture<GcStats> f = new CompletableFuture<>();
        synchronized (lock) {
            if (closed) {
                f.completeExceptionally(new CancellationException("gc scheduler closed"));
            } else if (collecting) {
                nextWaiters.add(f);
                triggerAfterCollection = true;
            } else {
                waiters.add(f);
                event(false, false);
            }
        }
        return f;
    }

    /** When the next collection (or check) is due; null when none is scheduled. */
    public Instant nextCollection() {
        synchronized (lock) {
            return nextCollection;
        }
    }

    /** The current spacing between collections, from the pause threshold. */
    public Duration interval() {
        synchronized (lock) {
            return interval;
        }
    }

    /** Completed collections since start. */
    public long collections() {
        synchronized (lock) {
            return collections;
        }
    }

    /** The plugin's exports, as containerd shows them in introspection. */
    public Map<String, String> exports() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("PauseThreshold", goSprint(pauseThreshold));
        m.put("DeletionThreshold", Integer.toString(deletionThreshold));
        m.put("MutationThreshold", Integer.toString(mutationThreshold));
        m.put("ScheduleDelay", GoDuration.format(scheduleDelay));
        return m;
    }

    /**
     * Go's {@code fmt.Sprint} of a float64 from 0 to 0.5 (the clamped threshold): the shortest digits that
     * read back as the same double, in exponent form ({@code 1e-05}) below 1e-4. Not BigDecimal: its class
     * initialization alone cost every boot some 15 ms of CPU.
     */
    static String goSprint(double v) {
        if (v == 0) return "0";
        String s = Double.toString(v); // shortest round-trip digits: "0.02" or "1.5E-5"
        int e = s.indexOf('E');
        String mantissa = e < 0 ? s : s.substring(0, e);
        int dot = mantissa.indexOf('.');
        String digits = mantissa.substring(0, dot) + mantissa.substring(dot + 1);
        int point = dot + (e < 0 ? 0 : Integer.parseInt(s.substring(e + 1))); // decimal point's place in digits
        int lead = 0;
        while (lead < digits.length() - 1 && digits.charAt(lead) == '0') lead++;
        int end = digits.length();
        while (end > lead + 1 && digits.charAt(end - 1) == '0') end--;
        digits = digits.substring(lead, end);
        point -= lead;
        int exp = point - 1;
        if (exp < -4) {
            String frac = digits.length() > 1 ? "." + digits.substring(1) : "";
            return digits.charAt(0) + frac + "e-" + (-exp < 10 ? "0" : "") + -exp;
        }
        if (point <= 0) return "0." + "0".repeat(-point) + digits;
        if (point >= digits.length()) return digits + "0".repeat(point - digits.length());
        return digits.substring(0, point) + "." + digits.substring(point);
    }

    // containerd's event handling: count, then schedule if a threshold says so and nothing is due sooner
    private void event(boolean mutation, boolean dirtyEvent) {
        if (closed) return;
        if (collecting) {
            if (dirtyEvent) deletionsDuringCollection++;
            return;
        }
        if (dirtyEvent) deletions++;
        if (mutation) mutations++;
        else triggered = true;
        boolean now = triggered
                || (deletionThreshold > 0 && deletions >= deletionThreshold)
                || (nextCollection == null && ((deletionThreshold == 0 && deletions > 0)
                        || (mutationThreshold > 0 && mutations >= mutationThreshold)));
        if (now && (nextCollection == null || nextCollection.isAfter(clock.instant().plus(scheduleDelay)))) {
            schedule(scheduleDelay);
        }
    }

    private void schedule(Duration delay) {
        if (scheduled != null) scheduled.cancel();
        nextCollection = clock.instant().plus(delay);
        Timer.Handle[] self = new Timer.Handle[1];
        self[0] = timer.schedule(delay, () -> fire(self));
        scheduled = self[0];
    }

    private void fire(Timer.Handle[] self) {
        List<CompletableFuture<GcStats>> mine;
        boolean wasDirty;
        Instant due;
        synchronized (lock) {
            // self[0] is set under this lock; a replaced task may still get here if it had already started
            if (closed || self[0] == null || self[0] != scheduled) return;
            scheduled = null;
            if (!triggered && lastCollection != null && deletions == 0
                    && (mutationThreshold == 0 || mutations < mutationThreshold)) {
                schedule(interval);
                return;
            }
            collecting = true;
            wasDirty = dirty;
            dirty = false;
            due = nextCollection;
            mine = waiters;
            waiters = new ArrayList<>();
        }

        GcStats stats = null;
        Throwable error = null;
        try {
            stats = collector.collect();
        } catch (Exception | LinkageError e) {
            error = e;
            LOG.log(Level.ERROR, "garbage collection failed: " + e.getMessage(), e);
        }

        synchronized (lock) {
            collecting = false;
            Instant last = clock.instant();
            int lateDeletions = deletionsDuringCollection;
            deletionsDuringCollection = 0;
            if (error != null) {
                dirty |= wasDirty;
                deletions += lateDeletions;
                Duration retry = lastCollection == null || due == null ? SECOND
                        : Duration.between(lastCollection, due).plus(SECOND);
                lastCollection = last;
                if (!closed) schedule(retry);
            } else {
                if (LOG.isLoggable(Level.DEBUG)) {
                    LOG.log(Level.DEBUG, "garbage collected in {0} (backend cleanups {1})", stats.elapsed(), stats.cleanups());
                }
                gcTimeNanos += stats.elapsed().toNanos();
                collections++;
                triggered = false;
                deletions = lateDeletions;
                mutations = 0;
                if (pauseThreshold > 0.0) {
                    double avg = (double) gcTimeNanos / collections;
                    interval = Duration.ofNanos((long) (avg / pauseThreshold - avg));
                }
                lastCollection = last;
                if (!closed) schedule(interval);
            }
            waiters.addAll(nextWaiters);
            nextWaiters.clear();
            if (triggerAfterCollection) {
                triggerAfterCollection = false;
                event(false, false);
            }
        }
        for (CompletableFuture<GcStats> w : mine) {
            if (error != null) w.completeExceptionally(new IllegalStateException("gc failed", error));
            else w.complete(stats);
        }
    }

    @Override
    public void close() {
        List<CompletableFuture<GcStats>> orphaned;
        synchronized (lock) {
            if (closed) return;
            closed = true;
            if (scheduled != null) scheduled.cancel();
            scheduled = null;
            nextCollection = null;
            orphaned = new ArrayList<>(waiters);
            orphaned.addAll(nextWaiters);
            waiters.clear();
            nextWaiters.clear();
        }
        for (var w : orphaned) w.completeExceptionally(new CancellationException("gc scheduler closed"));
        timer.close();
    }
}
