package io.jcontainerd.metadata;

/**
 * How the metadata layer reaches the garbage collector. The GC plugin implements it and installs
 * itself with {@link MetadataDb#setGcTrigger}; until one does, {@link #NONE} makes both calls no-ops
 * (deleted blobs then stay in the backend store until a collector runs).
 */
public interface GcTrigger {
    GcTrigger NONE = new GcTrigger() {
        @Override
        public void collect(boolean wait) {}

        @Override
        public String toString() {
            return "no garbage collector";
        }
    };

    /** Schedules a collection; with {@code wait}, returns once one has completed (lease delete with sync). */
    void collect(boolean wait);

    /**
     * Told after a committed transaction dropped a reference (a blob record, a lease, a lease resource):
     * containerd's "dirty" mark, which lets the scheduler collect soon. Default: nothing.
     */
    default void dirty() {}

    /**
     * Told after a committed Remove dropped the record of snapshot {@code key} of {@code snapshotter}:
     * only that snapshotter's backend has new garbage (containerd marks just it dirty). Default: {@link #dirty()}.
     */
    default void snapshotRemoved(String namespace, String snapshotter, String key) {
        dirty();
    }

    /** Told after every committed write transaction, for the scheduler's mutation threshold. Default: nothing. */
    default void mutated() {}
}
