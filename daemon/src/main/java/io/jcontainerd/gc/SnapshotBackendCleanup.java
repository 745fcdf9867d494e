package io.jcontainerd.gc;

import io.jcontainerd.metadata.MetadataDb;
import io.jcontainerd.metadata.MetadataSnapshotter;

/** Removes one snapshotter's backend snapshots that no metadata record names any more. */
public final class SnapshotBackendCleanup implements BackendCleanup {
    private final MetadataSnapshotter snapshotter;

    public SnapshotBackendCleanup(MetadataSnapshotter snapshotter) {
        this.snapshotter = snapshotter;
    }

    @Override
    public String name() {
        return "snapshotter/" + snapshotter.name();
    }

    @Override
    public boolean affectedBy(Node removed) {
        return removed.type().equals(ResourceType.SNAPSHOT) && removed.snapshotter().equals(snapshotter.name());
    }

    @Override
    public void cleanup(MetadataDb db) {
        snapshotter.cleanupBackend();
    }
}
