package io.jcontainerd.gc;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;

/**
 * Images (tables {@code images}, {@code image_labels}, schema 3): every image is a root; it keeps its
 * target blob and whatever its {@code gc.ref.*} labels name. Images themselves are never collected.
 */
public final class ImageGcResource implements GcResource {

    @Override
    public ResourceType type() {
        return ResourceType.IMAGE;
    }

    @Override
    public void roots(Connection tx, Instant now, RefSink out) throws SQLException {
        for (String[] r : Sql.rows(tx, "SELECT namespace, name FROM images")) out.add(new Node(ResourceType.IMAGE, r[0], r[1]));
    }

    @Override
    public void references(Connection tx, Node node, boolean flat, RefSink out) throws SQLException {
        for (String[] r : Sql.rows(tx, "SELECT target_digest FROM images WHERE namespace = ? AND name = ?", node.namespace(), node.key())) {
            out.add(Node.content(node.namespace(), r[0]));
        }
        GcLabels.references(node.namespace(), Sql.labels(tx,
                "SELECT key, value FROM image_labels WHERE namespace = ? AND name = ?", node.namespace(), node.key()), out);
    }
}
