package io.jcontainerd.metadata;

import io.jcontainerd.errdefs.Errdefs;
import io.jcontainerd.namespaces.Namespaces;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Namespace records inside a metadata transaction. */
public final class NamespaceStore {
    private final Connection tx;
    private final Clock clock;

    public NamespaceStore(Connection tx, Clock clock) {
        this.tx = tx;
        this.clock = clock;
    }

    public void create(String name, Map<String, String> labels) throws SQLException {
        Namespaces.validateIdentifier(name);
        Namespaces.validateLabels(labels);
        if (exists(name)) throw Errdefs.alreadyExists("namespace \"%s\": already exists", name);
        long now = clock.millis();
        try (PreparedStatement ps = tx.prepareStatement("INSERT INTO namespaces (name, created_at, updated_at) VALUES (?, ?, ?)")) {
            ps.setString(1, name);
            ps.setLong(2, now);
            ps.setLong(3, now);
            ps.executeUpdate();
        }
        for (var e : labels.entrySet()) setLabel(name, e.getKey(), e.getValue());
    }

    /** Creates the namespace if it does not exist yet, as containerd does when a resource is first put in it. */
    public void ensure(String name) throws SQLException {
        if (!exists(name)) create(name, Map.of());
    }

    public boolean exists(String name) throws SQLException {
        try (PreparedStatement ps = tx.prepareStatement("SELECT 1 FROM namespaces WHERE name = ?")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    public Map<String, String> labels(String name) throws SQLException {
        if (!exists(name)) throw Errdefs.notFound("namespace \"%s\": not found", name);
        Map<String, String> out = new LinkedHashMap<>();
        try (PreparedStatement ps = tx.prepareStatement("SELECT key, value FROM namespace_labels WHERE namespace = ? ORDER BY key")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.put(rs.getString(1), rs.getString(2));
            }
        }
        return out;
    }

    public List<String> list() throws SQLException {
        List<String> out = new ArrayList<>();
        try (PreparedStatement ps = tx.prepareStatement("SELECT name FROM namespaces ORDER BY name");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) out.add(rs.getString(1));
        }
        return out;
    }

    /** Sets a label; an empty value removes it (containerd's convention). */
    public void setLabel(String name, String key, String value) throws SQLException {
        Namespaces.validateLabel(key, value);
        if (!exists(name)) throw Errdefs.notFound("namespace \"%s\": not found", name);
        if (value.isEmpty()) {
            try (PreparedStatement ps = tx.prepareStatement("DELETE FROM namespace_labels WHERE namespace = ? AND key = ?")) {
                ps.setString(1, name);
                ps.setString(2, key);
                ps.executeUpdate();
            }
        } else {
            try (PreparedStatement ps = tx.prepareStatement(
                    "INSERT INTO namespace_labels (namespace, key, value) VALUES (?, ?, ?) "
                            + "ON CONFLICT(namespace, key) DO UPDATE SET value = excluded.value")) {
                ps.setString(1, name);
                ps.setString(2, key);
                ps.setString(3, value);
                ps.executeUpdate();
            }
        }
        try (PreparedStatement ps = tx.prepareStatement("UPDATE namespaces SET updated_at = ? WHERE name = ?")) {
            ps.setLong(1, clock.millis());
            ps.setString(2, name);
            ps.executeUpdate();
        }
    }

    /**
     * Deletes an empty namespace. While it still holds resources this is FailedPrecondition naming
     * them; the subsystems that own those resources register their checks through {@link Occupancy}.
     */
    public void delete(String name, List<Occupancy> occupancy) throws SQLException {
        if (!exists(name)) throw Errdefs.notFound("namespace \"%s\": not found", name);
        List<String> held = new ArrayList<>();
        for (Occupancy o : occupancy) held.addAll(o.heldIn(tx, name));
        if (!held.isEmpty()) {
            throw Errdefs.failedPrecondition("namespace \"%s\" must be empty, but it still has %s", name, String.join(", ", held));
        }
        try (PreparedStatement ps = tx.prepareStatement("DELETE FROM namespaces WHERE name = ?")) {
            ps.setString(1, name);
            ps.executeUpdate();
        }
    }

    /** A subsystem's answer to "what of yours is still in this namespace?" (e.g. "images"). */
    @FunctionalInterface
    public interface Occupancy {
        List<String> heldIn(Connection tx, String namespace) throws SQLException;
    }
}
