package io.jcontainerd.gc;

import io.jcontainerd.protobuf.Timestamps;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Namespaced ingests (table {@code ingests}, schema 2). As in containerd, an ingest is a root only
 * while it has an expiry ({@code expires_at}, set when no lease held it at creation) that has not
 * passed; a leased ingest lives as long as its lease. An ingest keeps alive the blob it adopted
 * ({@code expected}).
 */
public final class IngestGcResource implements GcResource {

    @Override
    public ResourceType type() {
        return ResourceType.INGEST;
    }

    @Override
    public void roots(Connection tx, Instant now, RefSink out) throws SQLException {
        try (PreparedStatement ps = tx.prepareStatement(
                "SELECT namespace, ref FROM ingests WHERE expires_at IS NOT NULL AND expires_at >= ?")) {
            ps.setLong(1, Timestamps.toEpochNanos(now));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.add(Node.ingest(rs.getString(1), rs.getString(2)));
            }
        }
    }

    @Override
    public void references(Connection tx, Node node, boolean flat, RefSink out) throws SQLException {
        for (String[] r : Sql.rows(tx, "SELECT expected FROM ingests WHERE namespace = ? AND ref = ?",
                node.namespace(), node.key())) {
            if (r[0] != null && !r[0].isEmpty()) out.add(Node.content(node.namespace(), r[0]));
        }
    }

    @Override
    public List<Node> all(Connection tx) throws SQLException {
        List<Node> out = new ArrayList<>();
        for (String[] r : Sql.rows(tx, "SELECT namespace, ref FROM ingests")) out.add(Node.ingest(r[0], r[1]));
        return out;
    }

    @Override
    public void remove(Connection tx, Node node) throws SQLException {
        Sql.update(tx, "DELETE FROM ingests WHERE namespace = ? AND ref = ?", node.namespace(), node.key());
    }
}
