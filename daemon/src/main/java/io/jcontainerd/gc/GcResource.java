package io.jcontainerd.gc;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;

/**
 * One subsystem's part of the reference graph, all read and written inside the collector's metadata
 * write transaction. A resource owns the nodes of {@link #type()}: it answers their references, lists
 * them and removes them. Resources that are never collected (images, containers) only contribute roots.
 */
public interface GcResource {

    ResourceType type();

    /** Reports the nodes (of any type) that are live on their own account, as of {@code now}. */
    default void roots(Connection tx, Instant now, RefSink out) throws SQLException {}

    /**
     * Reports what {@code node} (of this type) keeps alive. A node that no longer exists (reached
     * through a dangling label, say) simply has no references. {@code flat}: see {@link RefSink#add}.
     */
    default void references(Connection tx, Node node, boolean flat, RefSink out) throws SQLException {}

    /** Every node of this type that the collector may remove. */
    default List<Node> all(Connection tx) throws SQLException {
        return List.of();
    }

    /** Deletes the metadata of an unreachable node (backend data goes later, in a {@link BackendCleanup}). */
    default void remove(Connection tx, Node node) throws SQLException {
        throw new UnsupportedOperationException(type() + " resources are not collected");
    }
}
