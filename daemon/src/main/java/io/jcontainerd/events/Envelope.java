package io.jcontainerd.events;

import com.google.protobuf.Any;
import java.time.Instant;

/** One event as it travels through the exchange: containerd's Envelope. */
public record Envelope(Instant timestamp, String namespace, String topic, Any event) {}
