package io.jcontainerd.gc;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;

/**
 * Containers (tables {@code containers}, {@code container_labels}, schema 4): every container is a
 * root; it keeps its snapshot and what its {@code gc.ref.*} labels name, but not its image (as in
 * containerd). Containers themselves are never collected.
 */
public final class ContainerGcResource implements GcResource {

    @Override
    public ResourceType type() {
        return ResourceType.CONTAINER;
    }

    @Override
    public void roots(Connection tx, Instant now, RefSink out) throws SQLException {
        for (String[] r : Sql.rows(tx, "SELECT namespace, id FROM containers")) out.add(new Node(ResourceType.CONTAINER, r[0], r[1]));
    }

    @Override
    public void references(Connection tx, Node node, boolean flat, RefSink out) throws SQLException {
        for (String[] r : Sql.rows(tx, "SELECT snapshotter, snapshot_key FROM containers WHERE namespace = ? AND id = ?",
                node.namespace(), node.key())) {
            if (!r[0].isEmpty() && !r[1].isEmpty()) out.add(Node.snapshot(node.namespace(), r[0], r[1]));
        }
        GcLabels.references(node.namespace(), Sql.labels(tx,
                "SELECT key, value FROM container_labels WHERE namespace = ? AND id = ?", node.namespace(), node.key()), out);
    }
}
