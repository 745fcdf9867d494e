package io.jcontainerd.gc;

import io.jcontainerd.metadata.MetadataDb;

/**
 * Removes backend data (blobs on disk, snapshotter snapshots) that no namespace's metadata refers to
 * any more. It runs after the collector's metadata transaction committed, and must decide afresh each
 * time what is unreferenced (not from the list of nodes just removed): a crash between the metadata
 * delete and this step then only delays the cleanup to the next run, which after a restart is the
 * first one (every cleanup is pending at start).
 */
public interface BackendCleanup {

    /** Names the cleanup in statistics and logs, e.g. {@code content} or {@code snapshotter/overlayfs}. */
    String name();

    /** Whether removing {@code node}'s metadata may have left data in this backend. */
    boolean affectedBy(Node removed);

    /**
     * Deletes what the backend holds that {@code db} no longer refers to. Anything that creates backend
     * data must record it in metadata within the same transaction (or otherwise exclude this scan), so
     * that new data is never mistaken for garbage.
     */
    void cleanup(MetadataDb db) throws Exception;
}
