package io.jcontainerd.gc.scheduler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jcontainerd.config.ConfigDecoder;
import io.jcontainerd.gc.GcStats;
import io.jcontainerd.gc.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

class GcSchedulerTest {
    private static final Instant T0 = Instant.parse("2024-01-01T00:00:00Z");

    private final MutableClock clock = new MutableClock(T0);
    private final ManualTimer timer = new ManualTimer(clock);
    private final List<Instant> runs = new ArrayList<>();
    private Duration pause = Duration.ofMillis(20);
    private RuntimeException failWith;
    private Runnable during = () -> {};

    /** A collection that "takes" {@link #pause} of clock time. */
    private GcStats collect() {
        runs.add(clock.instant());
        during.run();
        if (failWith != null) throw failWith;
        Instant start = clock.instant();
        clock.advance(pause);
        return new GcStats(start, pause, Map.of(), Map.of(), Map.of());
    }

    private GcScheduler scheduler(SchedulerConfig cfg) {
        return new GcScheduler(this::collect, cfg, clock, timer);
    }

    private static SchedulerConfig cfg(double pause, int deletions, int mutations, long delayMs, long startupMs) {
        return new SchedulerConfig(pause, deletions, mutations, Duration.ofMillis(delayMs), Duration.ofMillis(startupMs));
    }

    private static Duration ms(long n) {
        return Duration.ofMillis(n);
    }

    @Test
    void startupDelayRunsTheFirstCollection() {
        GcScheduler s = scheduler(SchedulerConfig.defaults());
        s.start();
        assertThat(s.nextCollection()).isEqualTo(T0.plusMillis(100));
        timer.advance(ms(99));
        assertThat(runs).isEmpty();
        timer.advance(ms(1));
        assertThat(runs).containsExactly(T0.plusMillis(100));
        // 20ms pause at 2%: next check 980ms after the collection ended
        assertThat(s.interval()).isEqualTo(ms(980));
        assertThat(s.nextCollection()).isEqualTo(T0.plusMillis(120 + 980));
    }

    @Test
    void checksWithNothingToDoAreSkipped() {
        GcScheduler s = scheduler(SchedulerConfig.defaults());
        s.start();
        timer.advance(ms(100));
        timer.advance(Duration.ofSeconds(10));
        assertThat(runs).hasSize(1);
        assertThat(timer.pending()).isEqualTo(1); // still polling every interval
    }

    @Test
    void zeroStartupDelayWaitsForATrigger() {
        GcScheduler s = scheduler(cfg(0.02, 0, 100, 0, 0));
        s.start();
        assertThat(s.nextCollection()).isNull();
        timer.advance(Duration.ofMinutes(1));
        assertThat(runs).isEmpty();
        s.mutationOccurred();
        timer.runDue();
        assertThat(runs).isEmpty(); // a mutation alone (below threshold) schedules nothing
        s.deletionOccurred();
        assertThat(s.nextCollection()).isEqualTo(clock.instant()); // threshold 0: any deletion, delay 0
        timer.runDue();
        assertThat(runs).hasSize(1);
    }

    @Test
    void pauseThresholdSpacesCollectionsAfterADeletion() {
        GcScheduler s = scheduler(SchedulerConfig.defaults());
        s.start();
        timer.advance(ms(100)); // ends at T0+120ms, next check at T0+1100ms
        s.deletionOccurred(); // something is scheduled already: no earlier run
        timer.advance(ms(979));
        assertThat(runs).hasSize(1);
        timer.advance(ms(1));
        assertThat(runs).containsExactly(T0.plusMillis(100), T0.plusMillis(1100));
        // the average pause stays 20ms, so does the interval
        assertThat(s.interval()).isEqualTo(ms(980));
    }

    @Test
    void pauseThresholdFollowsTheAveragePause() {
        GcScheduler s = scheduler(cfg(0.1, 0, 100, 0, 100));
        s.start();
        pause = ms(10);
        timer.advance(ms(100));
        assertThat(s.interval()).isEqualTo(ms(90)); // 10 / 0.1 - 10
        pause = ms(30);
        s.scheduleAndWait();
        timer.runDue();
        assertThat(s.interval()).isEqualTo(ms(180)); // avg 20: 20 / 0.1 - 20
    }

    @Test
    void zeroPauseThresholdKeepsOneSecond() {
        GcScheduler s = scheduler(cfg(0, 0, 100, 0, 100));
        s.start();
        timer.advance(ms(100));
        assertThat(s.interval()).isEqualTo(Duration.ofSeconds(1));
    }

    @Test
    void deletionThresholdSchedulesEvenWhenACheckIsPending() {
        GcScheduler s = scheduler(cfg(0.02, 3, 100, 5, 100));
        s.start();
        timer.advance(ms(100));
        s.deletionOccurred();
        s.mutationOccurred(); // still dirty since the last collection: counts as a deletion
        timer.advance(ms(10));
        assertThat(runs).hasSize(1);
        s.deletionOccurred();
        Instant third = clock.instant();
        assertThat(s.nextCollection()).isEqualTo(third.plusMillis(5));
        timer.advance(ms(5));
        assertThat(runs).containsExactly(T0.plusMillis(100), third.plusMillis(5));
    }

    @Test
    void mutationThresholdSchedulesOnlyWhenNothingIsScheduled() {
        GcScheduler s = scheduler(cfg(0.02, 0, 3, 0, 0));
        s.start();
        s.mutationOccurred();
        s.mutationOccurred();
        assertThat(s.nextCollection()).isNull();
        s.mutationOccurred();
        timer.runDue();
        assertThat(runs).hasSize(1);
        // now a check is always scheduled; mutations only make it collect rather than skip
        s.mutationOccurred();
        s.mutationOccurred();
        timer.advance(ms(980));
        assertThat(runs).hasSize(1);
        s.mutationOccurred();
        s.mutationOccurred();
        assertThat(s.nextCollection()).isEqualTo(T0.plusMillis(20 + 980 + 980)); // not moved earlier
        timer.advance(ms(980));
        assertThat(runs).hasSize(2);
    }

    @Test
    void zeroMutationThresholdNeverCollectsOnMutations() {
        GcScheduler s = scheduler(cfg(0.02, 0, 0, 0, 100));
        s.start();
        timer.advance(ms(100));
        for (int i = 0; i < 1000; i++) s.mutationOccurred();
        timer.advance(Duration.ofMinutes(1));
        assertThat(runs).hasSize(1);
    }

    @Test
    void scheduleAndWaitCompletesAfterTheCollection() {
        GcScheduler s = scheduler(cfg(0.02, 0, 100, 50, 0));
        s.start();
        CompletableFuture<GcStats> f = s.scheduleAndWait();
        timer.advance(ms(49));
        assertThat(f).isNotDone();
        timer.advance(ms(1));
        assertThat(f).isCompleted();
        assertThat(f.join().elapsed()).isEqualTo(ms(20));
        assertThat(s.collections()).isEqualTo(1);
    }

    @Test
    void scheduleAndWaitUsesAnEarlierScheduledCollection() {
        GcScheduler s = scheduler(cfg(0.02, 0, 100, 500, 100));
        s.start();
        CompletableFuture<GcStats> f = s.scheduleAndWait();
        assertThat(s.nextCollection()).isEqualTo(T0.plusMillis(100));
        timer.advance(ms(100));
        assertThat(f).isCompleted();
    }

    @Test
    void scheduleAndWaitDuringACollectionWaitsForTheNextOne() {
        GcScheduler s = scheduler(cfg(0.02, 0, 100, 0, 100));
        s.start();
        List<CompletableFuture<GcStats>> inner = new ArrayList<>();
        during = () -> {
            if (inner.isEmpty()) {
                inner.add(s.scheduleAndWait());
                s.deletionOccurred(); // dropped as an event, but leaves the db dirty
            }
        };
        timer.advance(ms(100));
        assertThat(runs).hasSize(1);
        assertThat(inner.getFirst()).isNotDone();
        timer.runDue();
        assertThat(runs).hasSize(2);
        assertThat(inner.getFirst()).isCompleted();
    }

    @Test
    void aDeletionDuringACollectionIsCollectedByTheNextOne() {
        // backends are cleaned after the sweep released the database, so a deletion can land meanwhile
        GcScheduler s = scheduler(cfg(0.02, 0, 100, 0, 100));
        s.start();
        during = () -> {
            if (runs.size() == 1) s.deletionOccurred();
        };
        timer.advance(ms(100));
        assertThat(runs).hasSize(1);
        Instant next = s.nextCollection();
        assertThat(next).isNotNull();
        timer.advance(Duration.between(clock.instant(), next));
        assertThat(runs).hasSize(2);
        // nothing happened since: the following check is skipped
        timer.advance(Duration.between(clock.instant(), s.nextCollection()));
        assertThat(runs).hasSize(2);
    }

    @Test
    void failedCollectionFailsWaitersAndRetriesLater() {
        GcScheduler s = scheduler(cfg(0.02, 0, 100, 0, 100));
        s.start();
        timer.advance(ms(100)); // ok, ends T0+120ms, next check T0+1100ms
        failWith = new IllegalStateException("disk on fire");
        CompletableFuture<GcStats> f = s.scheduleAndWait(); // due now
        Instant due = clock.instant();
        timer.runDue();
        assertThatThrownBy(f::join).isInstanceOf(CompletionException.class).hasRootCauseMessage("disk on fire");
        // retry after the previous spacing (last end → this due time) plus a second
        assertThat(s.nextCollection()).isEqualTo(due.plus(Duration.between(T0.plusMillis(120), due)).plusSeconds(1));
        failWith = null;
        timer.advance(Duration.between(clock.instant(), s.nextCollection()));
        assertThat(runs).hasSize(3); // the trigger still counts: the retry collects
        assertThat(s.collections()).isEqualTo(2);
    }

    @Test
    void closeCancelsWaitersAndTimers() {
        GcScheduler s = scheduler(cfg(0.02, 0, 100, 50, 100));
        s.start();
        CompletableFuture<GcStats> f = s.scheduleAndWait();
        s.close();
        assertThat(timer.pending()).isZero();
        assertThatThrownBy(f::join).hasCauseInstanceOf(CancellationException.class);
        assertThat(s.scheduleAndWait()).isCompletedExceptionally();
        timer.advance(Duration.ofMinutes(1));
        assertThat(runs).isEmpty();
    }

    @Test
    void exportsAndClamping() {
        assertThat(scheduler(SchedulerConfig.defaults()).exports()).containsExactly(
                Map.entry("PauseThreshold", "0.02"), Map.entry("DeletionThreshold", "0"),
                Map.entry("MutationThreshold", "100"), Map.entry("ScheduleDelay", "0s"));
        assertThat(scheduler(new SchedulerConfig(0.9, -1, -5, ms(-3), ms(-1))).exports()).containsExactly(
                Map.entry("PauseThreshold", "0.5"), Map.entry("DeletionThreshold", "-1"),
                Map.entry("MutationThreshold", "0"), Map.entry("ScheduleDelay", "0s"));
    }

    @Test
    void pauseThresholdPrintsAsGoPrintsAFloat64() {
        assertThat(GcScheduler.goSprint(0)).isEqualTo("0");
        assertThat(GcScheduler.goSprint(0.5)).isEqualTo("0.5");
        assertThat(GcScheduler.goSprint(0.02)).isEqualTo("0.02");
        assertThat(GcScheduler.goSprint(0.125)).isEqualTo("0.125");
        assertThat(GcScheduler.goSprint(0.1 + 0.2)).isEqualTo("0.30000000000000004");
        assertThat(GcScheduler.goSprint(0.001)).isEqualTo("0.001");
        assertThat(GcScheduler.goSprint(0.0001)).isEqualTo("0.0001");
        assertThat(GcScheduler.goSprint(0.00001)).isEqualTo("1e-05");
        assertThat(GcScheduler.goSprint(0.000015)).isEqualTo("1.5e-05");
        assertThat(GcScheduler.goSprint(2.5e-12)).isEqualTo("2.5e-12");
    }

    @Test
    void configKeysAndDefaultsAreContainerds() {
        assertThat(ConfigDecoder.encode(SchedulerConfig.defaults())).containsExactly(
                Map.entry("pause_threshold", 0.02), Map.entry("deletion_threshold", 0L),
                Map.entry("mutation_threshold", 100L), Map.entry("schedule_delay", "0s"),
                Map.entry("startup_delay", "100ms"));
        SchedulerConfig c = ConfigDecoder.decode(Map.of("pause_threshold", 0.1, "deletion_threshold", 5L,
                "schedule_delay", "250ms"), SchedulerConfig.defaults());
        assertThat(c).isEqualTo(new SchedulerConfig(0.1, 5, 100, ms(250), ms(100)));
    }
}
