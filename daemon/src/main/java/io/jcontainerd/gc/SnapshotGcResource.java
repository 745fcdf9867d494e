package io.jcontainerd.gc;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Snapshots of every snapshotter (tables {@code snapshots}, {@code snapshot_labels}, schema 5). A
 * snapshot labelled {@code containerd.io/gc.root} is a root; a snapshot keeps its parent (with the
 * same flatness) and, unless reached flat, what its {@code gc.ref.*} labels name.
 */
public final class SnapshotGcResource implements GcResource {

    @Override
    public ResourceType type() {
        return ResourceType.SNAPSHOT;
    }

    @Override
    public void roots(Connection tx, Instant now, RefSink out) throws SQLException {
        for (String[] r : Sql.rows(tx, "SELECT s.namespace, s.snapshotter, s.key FROM snapshots s "
                + "JOIN snapshot_labels l ON l.snapshot_id = s.id WHERE l.key = ?", GcLabels.ROOT)) {
            out.add(Node.snapshot(r[0], r[1], r[2]));
        }
    }

    @Override
    public void references(Connection tx, Node node, boolean flat, RefSink out) throws SQLException {
        List<String[]> rows = Sql.rows(tx, "SELECT id, parent FROM snapshots WHERE namespace = ? AND snapshotter = ? AND key = ?",
                node.namespace(), node.snapshotter(), node.snapshotKey());
        for (String[] r : rows) {
            if (!r[1].isEmpty()) out.add(Node.snapshot(node.namespace(), node.snapshotter(), r[1]), flat);
            if (!flat) {
                GcLabels.references(node.namespace(), Sql.labels(tx,
                        "SELECT key, value FROM snapshot_labels WHERE snapshot_id = ?", r[0]), out);
            }
        }
    }

    @Override
    public List<Node> all(Connection tx) throws SQLException {
        List<Node> out = new ArrayList<>();
        for (String[] r : Sql.rows(tx, "SELECT namespace, snapshotter, key FROM snapshots")) out.add(Node.snapshot(r[0], r[1], r[2]));
        return out;
    }

    @Override
    public void remove(Connection tx, Node node) throws SQLException {
        // labels go with the row (ON DELETE CASCADE)
        Sql.update(tx, "DELETE FROM snapshots WHERE namespace = ? AND snapshotter = ? AND key = ?",
                node.namespace(), node.snapshotter(), node.snapshotKey());
    }
}
