package io.jcontainerd.client.images;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Download permits go to the lowest key first, whatever order the waiting threads arrived in. */
class OrderedPermitsTest {
    @Test
    void lowestKeyFirst() throws Exception {
        ImagePuller.OrderedPermits permits = new ImagePuller.OrderedPermits(1);
        permits.acquire(0); // held: everyone below waits
        List<Long> got = new CopyOnWriteArrayList<>();
        List<Thread> threads = new java.util.ArrayList<>();
        for (long key : new long[] {5, 3, 4, 1, 2}) {
            Thread t = Thread.ofVirtual().start(() -> {
                try {
                    permits.acquire(key);
                    got.add(key);
                    permits.release();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            threads.add(t);
            // each one is queued before the next starts
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (t.getState() != Thread.State.WAITING && System.nanoTime() < deadline) Thread.sleep(1);
        }
        permits.release();
        for (Thread t : threads) assertThat(t.join(java.time.Duration.ofSeconds(10))).isTrue();
        assertThat(got).containsExactly(1L, 2L, 3L, 4L, 5L);
    }

    @Test
    void interruptedWaiterGivesWayToTheNext() throws Exception {
        ImagePuller.OrderedPermits permits = new ImagePuller.OrderedPermits(1);
        permits.acquire(0);
        Thread first = Thread.ofVirtual().start(() -> {
            try {
                permits.acquire(1);
            } catch (InterruptedException expected) {
                // leaves the queue
            }
        });
        while (first.getState() != Thread.State.WAITING) Thread.sleep(1);
        List<Long> got = new CopyOnWriteArrayList<>();
        Thread second = Thread.ofVirtual().start(() -> {
            try {
                permits.acquire(2);
                got.add(2L);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        while (second.getState() != Thread.State.WAITING) Thread.sleep(1);
        first.interrupt();
        first.join();
        permits.release();
        second.join();
        assertThat(got).containsExactly(2L);
    }
}
