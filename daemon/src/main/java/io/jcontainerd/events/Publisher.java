package io.jcontainerd.events;

import com.google.protobuf.Message;

/** Where subsystems send their events. */
public interface Publisher {
    /**
     * Publishes {@code event} on {@code topic} in {@code namespace}; the event is packed as an Any with
     * its bare proto full name as type URL (e.g. {@code containerd.events.NamespaceCreate}).
     */
    void publish(String namespace, String topic, Message event);
}
