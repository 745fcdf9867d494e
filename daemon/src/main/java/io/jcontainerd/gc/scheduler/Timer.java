package io.jcontainerd.gc.scheduler;

import java.time.Duration;

/** Runs tasks after a delay; the scheduler's only source of asynchrony, so tests can drive it by hand. */
public interface Timer extends AutoCloseable {

    /** A scheduled task; cancelling one that already ran or started does nothing. */
    interface Handle {
        void cancel();
    }

    Handle schedule(Duration delay, Runnable task);

    @Override
    default void close() {}
}
