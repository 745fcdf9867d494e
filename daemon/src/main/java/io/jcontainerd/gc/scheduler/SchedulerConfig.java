package io.jcontainerd.gc.scheduler;

import java.time.Duration;

/**
 * {@code [plugins."io.containerd.gc.v1.scheduler"]}, containerd's keys and defaults.
 *
 * @param pauseThreshold    the largest fraction of time collections may take: after each one the next
 *                          is at least average-pause / threshold - average-pause away (clamped to 0..0.5)
 * @param deletionThreshold collect (after {@code scheduleDelay}) once this many deletions happened since
 *                          the last collection; 0 means any deletion schedules one when none is scheduled
 * @param mutationThreshold a scheduled collection only runs (rather than being skipped) once this many
 *                          mutations happened, unless there were deletions or a manual trigger; 0 = never
 * @param scheduleDelay     how far in the future a triggered collection is scheduled
 * @param startupDelay      when the first collection runs after start (0: not until something triggers)
 */
public record SchedulerConfig(double pauseThreshold, int deletionThreshold, int mutationThreshold,
                              Duration scheduleDelay, Duration startupDelay) {

    public static SchedulerConfig defaults() {
        return new SchedulerConfig(0.02, 0, 100, Duration.ZERO, Duration.ofMillis(100));
    }
}
