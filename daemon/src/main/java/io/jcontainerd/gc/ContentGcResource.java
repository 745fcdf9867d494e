package io.jcontainerd.gc;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Namespaced blobs (tables {@code content}, {@code content_labels}, schema 2). A blob labelled
 * {@code containerd.io/gc.root} is a root; a blob keeps alive what its {@code gc.ref.*} labels name,
 * unless it was reached flat.
 */
public final class ContentGcResource implements GcResource {

    @Override
    public ResourceType type() {
        return ResourceType.CONTENT;
    }

    @Override
    public void roots(Connection tx, Instant now, RefSink out) throws SQLException {
        for (String[] r : Sql.rows(tx, "SELECT namespace, digest FROM content_labels WHERE key = ?", GcLabels.ROOT)) {
            out.add(Node.content(r[0], r[1]));
        }
    }

    @Override
    public void references(Connection tx, Node node, boolean flat, RefSink out) throws SQLException {
        if (flat) return;
        GcLabels.references(node.namespace(), Sql.labels(tx,
                "SELECT key, value FROM content_labels WHERE namespace = ? AND digest = ?",
                node.namespace(), node.key()), out);
    }

    @Override
    public List<Node> all(Connection tx) throws SQLException {
        List<Node> out = new ArrayList<>();
        for (String[] r : Sql.rows(tx, "SELECT namespace, digest FROM content")) out.add(Node.content(r[0], r[1]));
        return out;
    }

    @Override
    public void remove(Connection tx, Node node) throws SQLException {
        // labels go with the row (ON DELETE CASCADE)
        Sql.update(tx, "DELETE FROM content WHERE namespace = ? AND digest = ?", node.namespace(), node.key());
    }
}
