package io.jcontainerd.metadata;

import io.jcontainerd.content.ContentStore;
import io.jcontainerd.namespaces.Namespaces;

/**
 * The metadata layer's content: one backend store shared by all namespaces, each namespace seeing only
 * the blobs recorded for it. Requests get a {@link MetadataContentStore} view for their namespace (and
 * lease). The sharing policy decides whether a namespace may adopt a blob the backend already holds
 * ("shared") or must upload it itself ("isolated"); either way the bytes are stored once.
 */
public final class MetadataContent {
    private final MetadataDb db;
    private final ContentStore backend;
    private final boolean shared;

    public MetadataContent(MetadataDb db, ContentStore backend, boolean shared) {
        this.db = db;
        this.backend = backend;
        this.shared = shared;
    }

    /** The store as seen from {@code namespace}; what it creates is attached to {@code lease} (nullable). */
    public MetadataContentStore view(String namespace, String lease) {
        Namespaces.validateIdentifier(namespace);
        return new MetadataContentStore(db, backend, shared, namespace, lease == null || lease.isEmpty() ? null : lease);
    }

    /** The raw, un-namespaced store (for the garbage collector). */
    public ContentStore backend() {
        return backend;
    }

    public boolean shared() {
        return shared;
    }

    public MetadataDb db() {
        return db;
    }
}
