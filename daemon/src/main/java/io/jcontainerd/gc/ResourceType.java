package io.jcontainerd.gc;

import java.util.Objects;

/**
 * A kind of resource the collector knows about. Subsystems may define their own; the constants are
 * the kinds containerd's collector handles. The name appears in statistics and metrics.
 */
public record ResourceType(String name) {
    public static final ResourceType CONTENT = new ResourceType("content");
    public static final ResourceType SNAPSHOT = new ResourceType("snapshot");
    public static final ResourceType CONTAINER = new ResourceType("container");
    public static final ResourceType TASK = new ResourceType("task");
    public static final ResourceType LEASE = new ResourceType("lease");
    public static final ResourceType INGEST = new ResourceType("ingest");
    public static final ResourceType IMAGE = new ResourceType("image");

    public ResourceType {
        Objects.requireNonNull(name, "name");
    }

    // written out: a record's generated equals/hashCode bootstrap method handles on first use, at every
    // boot (the collector's maps are keyed by type)
    @Override
    public boolean equals(Object o) {
        return o instanceof ResourceType t && t.name.equals(name);
    }

    @Override
    public int hashCode() {
        return name.hashCode();
    }

    @Override
    public String toString() {
        return name;
    }
}
