package io.jcontainerd.events;

import io.jcontainerd.filters.Filter;
import java.util.ArrayDeque;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * One subscriber's bounded queue of envelopes. Publishers only ever append without waiting; a
 * subscriber whose queue is full is dropped by the {@link Exchange}. After a drop, {@link #next()}
 * still hands out what was queued before it and then returns null; after {@link #close()} it
 * returns null at once.
 */
public final class Subscription implements AutoCloseable {
    private final Filter filter;
    private final int capacity;
    private final Consumer<Subscription> onClose;
    private final ArrayDeque<Envelope> queue = new ArrayDeque<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private boolean closed;
    private boolean dropped;

    Subscription(Filter filter, int capacity, Consumer<Subscription> onClose) {
        this.filter = filter;
        this.capacity = capacity;
        this.onClose = onClose;
    }

    /**
     * Waits for the next envelope. Returns null when the subscription was closed, or was dropped
     * and everything queued before the drop has been handed out.
     */
    public Envelope next() throws InterruptedException {
        lock.lockInterruptibly();
        try {
            while (true) {
                if (closed) return null;
                Envelope e = queue.poll();
                if (e != null || dropped) return e;
                changed.await();
            }
        } finally {
            lock.unlock();
        }
    }

    /** The next queued envelope without waiting; null if none is queued or the subscription is closed. */
    public Envelope poll() {
        lock.lock();
        try {
            return closed ? null : queue.poll();
        } finally {
            lock.unlock();
        }
    }

    /** Whether the exchange dropped this subscriber because it fell behind. */
    public boolean dropped() {
        lock.lock();
        try {
            return dropped;
        } finally {
            lock.unlock();
        }
    }

    /** Ends the subscription; a blocked {@link #next()} returns null. Idempotent. */
    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) return;
            closed = true;
            queue.clear();
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        onClose.accept(this);
    }

    Filter filter() {
        return filter;
    }

    /** Queues {@code e}; false only when the queue is full, i.e. the subscriber must be dropped. */
    boolean offer(Envelope e) {
        lock.lock();
        try {
            if (closed || dropped) return true;
            if (queue.size() >= capacity) return false;
            queue.add(e);
            changed.signal();
            return true;
        } finally {
            lock.unlock();
        }
    }

    void markDropped() {
        lock.lock();
        try {
            dropped = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }
}
