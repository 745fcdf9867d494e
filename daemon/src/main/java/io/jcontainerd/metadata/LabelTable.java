package io.jcontainerd.metadata;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A side table of string key/value pairs owned by one record (labels, annotations):
 * columns {@code namespace, <owner column>, key, value}. Empty values are not stored, which is how
 * containerd removes a label.
 */
record LabelTable(String table, String ownerColumn) {

    static final LabelTable IMAGE_LABELS = new LabelTable("image_labels", "name");
    static final LabelTable IMAGE_ANNOTATIONS = new LabelTable("image_annotations", "name");
    static final LabelTable CONTAINER_LABELS = new LabelTable("container_labels", "id");
    static final LabelTable CONTENT_LABELS = new LabelTable("content_labels", "digest");

    Map<String, String> read(Connection tx, String namespace, String owner) throws SQLException {
        Map<String, String> out = new LinkedHashMap<>();
        try (PreparedStatement ps = tx.prepareStatement("SELECT key, value FROM " + table + " WHERE namespace = ? AND "
                + ownerColumn + " = ? ORDER BY key")) {
            ps.setString(1, namespace);
            ps.setString(2, owner);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.put(rs.getString(1), rs.getString(2));
            }
        }
        return out;
    }

    /** Replaces the owner's pairs with {@code values}. */
    void write(Connection tx, String namespace, String owner, Map<String, String> values) throws SQLException {
        try (PreparedStatement del = tx.prepareStatement("DELETE FROM " + table + " WHERE namespace = ? AND " + ownerColumn + " = ?")) {
            del.setString(1, namespace);
            del.setString(2, owner);
            del.executeUpdate();
        }
        try (PreparedStatement ins = tx.prepareStatement("INSERT INTO " + table + " (namespace, " + ownerColumn
                + ", key, value) VALUES (?, ?, ?, ?)")) {
            for (var e : values.entrySet()) {
                if (e.getValue().isEmpty()) continue;
                ins.setString(1, namespace);
                ins.setString(2, owner);
                ins.setString(3, e.getKey());
                ins.setString(4, e.getValue());
                ins.addBatch();
            }
            ins.executeBatch();
        }
    }
}
