package io.jcontainerd.snapshots;

import io.jcontainerd.errdefs.ContainerdException;
import io.jcontainerd.errdefs.ErrorKind;
import io.jcontainerd.mount.Mount;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * containerd's snapshotter contract. Keys name actives and views, names name committed snapshots;
 * both share one namespace per snapshotter. Errors are {@link io.jcontainerd.errdefs.ContainerdException}s
 * with containerd's kinds:
 * <ul>
 * <li>an unknown key or parent: NOT_FOUND; a parent that is not committed: INVALID_ARGUMENT;</li>
 * <li>a key or name already in use: ALREADY_EXISTS;</li>
 * <li>mounts of, or commit of, a snapshot of the wrong kind: FAILED_PRECONDITION;</li>
 * <li>remove of a snapshot with children: FAILED_PRECONDITION;</li>
 * <li>update of a field other than labels: INVALID_ARGUMENT.</li>
 * </ul>
 * Filesystem failures surface as {@link IOException}.
 */
public interface Snapshotter extends AutoCloseable {

    /** The snapshot's info, by key or name. */
    Info stat(String key) throws IOException;

    /**
     * Updates the labels of {@code info.name()}: with no field paths all labels are replaced; field
     * paths {@code labels} (replace all) and {@code labels.<key>} (set or, when absent from info,
     * delete one) select what changes. Returns the updated info.
     */
    Info update(Info info, List<String> fieldPaths) throws IOException;

    /**
     * Bytes and inodes of the snapshot's own layer: walked now for an active one, recorded at commit
     * for a committed one (views use nothing of their own).
     */
    Usage usage(String key) throws IOException;

    /** The mounts of an active or view snapshot, the same as Prepare or View returned. */
    List<Mount> mounts(String key) throws IOException;

    /** Creates a writable (active) snapshot {@code key} on top of committed {@code parent} ("" for none). */
    List<Mount> prepare(String key, String parent, Map<String, String> labels) throws IOException;

    /** Creates a read-only (view) snapshot {@code key} on top of committed {@code parent} ("" for none). */
    List<Mount> view(String key, String parent, Map<String, String> labels) throws IOException;

    /**
     * Turns active snapshot {@code key} into committed snapshot {@code name} with the given labels
     * (the active's labels are not inherited). The key is gone afterwards.
     */
    void commit(String name, String key, Map<String, String> labels) throws IOException;

    /** Removes the snapshot; its disk space may be reclaimed later by {@link #cleanup()}. */
    void remove(String key) throws IOException;

    /**
     * Removes {@code keys} in the order given (children before parents), for the garbage collector: a
     * key that is gone already (NotFound) or still has a child (FailedPrecondition) is skipped. Returns
     * how many were removed. Default: {@link #remove} one by one; a store may do all in one transaction.
     */
    default int removeAll(List<String> keys) throws IOException {
        int removed = 0;
        for (String k : keys) {
            try {
                remove(k);
                removed++;
            } catch (ContainerdException e) {
                if (!e.is(ErrorKind.NOT_FOUND) && !e.is(ErrorKind.FAILED_PRECONDITION)) throw e;
            }
        }
        return removed;
    }

    /** Calls {@code fn} for each snapshot matching any of {@code filters} (all when empty), by name order. */
    void walk(Consumer<Info> fn, List<String> filters) throws IOException;

    /** Removes on-disk state the store does not know: removed snapshots, and leftovers of a crash. */
    void cleanup() throws IOException;

    @Override
    void close() throws IOException;
}
