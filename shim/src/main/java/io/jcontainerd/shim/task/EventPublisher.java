package io.jcontainerd.shim.task;

import com.google.protobuf.Any;
import com.google.protobuf.Empty;
import com.google.protobuf.Message;
import io.jcontainerd.api.services.events.ttrpc.v1.Envelope;
import io.jcontainerd.api.services.events.ttrpc.v1.ForwardRequest;
import io.jcontainerd.protobuf.Timestamps;
import io.jcontainerd.shim.util.Log;
import io.jcontainerd.ttrpc.RequestContext;
import io.jcontainerd.ttrpc.TtrpcClient;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Publishes task events to the daemon in order: one queue, one sender calling
 * {@code containerd.services.events.ttrpc.v1.Events/Forward} on {@code TTRPC_ADDRESS} with the namespace
 * in the envelope and in the request metadata. A failed send is retried on a fresh connection a few
 * times, so a daemon that restarts briefly loses nothing.
 */
public final class EventPublisher implements AutoCloseable {
    private static final String SERVICE = "containerd.services.events.ttrpc.v1.Events";
    private static final int ATTEMPTS = 5;

    private record Item(String namespace, String topic, Message event, Instant at) {}

    private final Path address;
    private final LinkedBlockingQueue<Item> queue = new LinkedBlockingQueue<>();
    private final Object idle = new Object();
    private int pending; // guarded by idle
    private TtrpcClient client;
    private volatile boolean closed;

    /** {@code address} is TTRPC_ADDRESS (a path, optionally {@code unix://}); empty: events are only logged. */
    public EventPublisher(String address) {
        String a = address == null ? "" : address.startsWith("unix://") ? address.substring(7) : address;
        this.address = a.isEmpty() ? null : Path.of(a);
        Thread.ofVirtual().name("events").start(this::sendLoop);
    }

    /** Queues an event; events leave in the order they were queued. */
    public void publish(String namespace, String topic, Message event) {
        synchronized (idle) {
            pending++;
        }
        queue.add(new Item(namespace, topic, event, Instant.now()));
    }

    /** Waits until every queued event was sent (or given up on); false on timeout. */
    public boolean flush(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (idle) {
            while (pending > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) return false;
                TimeUnit.NANOSECONDS.timedWait(idle, left);
            }
        }
        return true;
    }

    private void sendLoop() {
        while (!closed) {
            Item item;
            try {
                item = queue.take();
            } catch (InterruptedException e) {
                return;
            }
            try {
                send(item);
            } finally {
                synchronized (idle) {
                    pending--;
                    idle.notifyAll();
                }
            }
        }
    }

    private void send(Item item) {
        if (address == null) {
            Log.debug("no TTRPC_ADDRESS: dropping event " + item.topic());
            return;
        }
        ForwardRequest req = ForwardRequest.newBuilder().setEnvelope(Envelope.newBuilder()
                .setTimestamp(Timestamps.of(item.at()))
                .setNamespace(item.namespace())
                .setTopic(item.topic())
                .setEvent(Any.newBuilder()
                        .setTypeUrl(item.event().getDescriptorForType().getFullName())
                        .setValue(item.event().toByteString())))
                .build();
        Map<String, String> md = Map.of(RequestContext.NAMESPACE_KEY, item.namespace());
        for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
            try {
                if (client == null || client.isClosed()) client = TtrpcClient.connect(address);
                client.call(SERVICE, "Forward", req, Empty.parser(), md, Duration.ofSeconds(5));
                return;
            } catch (Exception e) {
                if (client != null) client.close();
                client = null;
                if (attempt == ATTEMPTS) {
                    Log.error("post event " + item.topic(), e);
                    return;
                }
                try {
                    Thread.sleep(100L * attempt);
                } catch (InterruptedException ie) {
                    return;
                }
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        if (client != null) client.close();
    }
}
