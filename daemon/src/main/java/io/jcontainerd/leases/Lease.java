package io.jcontainerd.leases;

import java.time.Instant;
import java.util.Map;

/** A lease: a GC root holding resources while a client works with them. */
public record Lease(String id, Instant createdAt, Map<String, String> labels) {
    /** Label holding the lease's expiry (RFC 3339); once past, the lease no longer protects anything. */
    public static final String EXPIRE_LABEL = "containerd.io/gc.expire";
    /** Label asking GC to protect only the lease's direct resources, not what they reference. */
    public static final String FLAT_LABEL = "containerd.io/gc.flat";

    public Lease {
        labels = Map.copyOf(labels);
    }
}
