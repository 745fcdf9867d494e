package io.jcontainerd.gc.scheduler;

import io.jcontainerd.gc.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** A {@link Timer} whose tasks run, in due order, only when the test advances time. */
final class ManualTimer implements Timer {
    private final MutableClock clock;
    private final List<Task> tasks = new ArrayList<>();
    private long seq;

    private static final class Task implements Handle {
        final Instant due;
        final long seq;
        final Runnable run;
        boolean cancelled;

        Task(Instant due, long seq, Runnable run) {
            this.due = due;
            this.seq = seq;
            this.run = run;
        }

        @Override
        public void cancel() {
            cancelled = true;
        }
    }

    ManualTimer(MutableClock clock) {
        this.clock = clock;
    }

    @Override
    public synchronized Handle schedule(Duration delay, Runnable task) {
        Task t = new Task(clock.instant().plus(delay), seq++, task);
        tasks.add(t);
        return t;
    }

    /** Moves time forward by {@code d}, running each task as its due time is reached. */
    void advance(Duration d) {
        Instant target = clock.instant().plus(d);
        while (true) {
            Task next;
            synchronized (this) {
                tasks.removeIf(t -> t.cancelled);
                next = tasks.stream().filter(t -> !t.due.isAfter(target))
                        .min(Comparator.<Task, Instant>comparing(t -> t.due).thenComparingLong(t -> t.seq)).orElse(null);
                if (next == null) break;
                tasks.remove(next);
            }
            if (next.due.isAfter(clock.instant())) clock.set(next.due);
            next.run.run();
        }
        if (target.isAfter(clock.instant())) clock.set(target);
    }

    /** Runs what is due now. */
    void runDue() {
        advance(Duration.ZERO);
    }

    synchronized int pending() {
        tasks.removeIf(t -> t.cancelled);
        return tasks.size();
    }
}
