package io.jcontainerd.gc;

import io.jcontainerd.metadata.LeaseResources;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Leases (tables {@code leases}, {@code lease_labels}, {@code lease_resources}, schema 2). A lease is a
 * root unless its {@code containerd.io/gc.expire} time has passed; its resources are reported as roots
 * directly (flat when it is labelled {@code containerd.io/gc.flat}), as containerd does, so a lease has
 * no references of its own. An expired lease is unreachable and removed with its resources list.
 */
public final class LeaseGcResource implements GcResource {

    private record Key(String namespace, String id) {}

    @Override
    public ResourceType type() {
        return ResourceType.LEASE;
    }

    @Override
    public void roots(Connection tx, Instant now, RefSink out) throws SQLException {
        Map<Key, Map<String, String>> labels = new HashMap<>();
        for (String[] r : Sql.rows(tx, "SELECT namespace, lease_id, key, value FROM lease_labels")) {
            labels.computeIfAbsent(new Key(r[0], r[1]), _ -> new LinkedHashMap<>()).put(r[2], r[3]);
        }
        Map<Key, Boolean> live = new LinkedHashMap<>(); // lease → flat
        for (String[] r : Sql.rows(tx, "SELECT namespace, id FROM leases")) {
            Key k = new Key(r[0], r[1]);
            Map<String, String> l = labels.getOrDefault(k, Map.of());
            if (GcLabels.isExpired(l, now)) continue;
            live.put(k, GcLabels.isFlat(l));
            out.add(Node.lease(k.namespace(), k.id()));
        }
        for (String[] r : Sql.rows(tx, "SELECT namespace, lease_id, type, id FROM lease_resources")) {
            Boolean flat = live.get(new Key(r[0], r[1]));
            if (flat == null) continue;
            Node n = resource(r[0], r[2], r[3]);
            if (n != null) out.add(n, flat && n.type() != ResourceType.INGEST);
        }
    }

    /** A lease resource row as a node; containerd's resource type strings. Unknown types hold nothing. */
    static Node resource(String namespace, String type, String id) {
        if (type.equals(LeaseResources.CONTENT)) return Node.content(namespace, id);
        if (type.equals(LeaseResources.INGESTS)) return Node.ingest(namespace, id);
        String snapshots = LeaseResources.SNAPSHOTS + "/";
        if (type.startsWith(snapshots)) return Node.snapshot(namespace, type.substring(snapshots.length()), id);
        return null;
    }

    @Override
    public List<Node> all(Connection tx) throws SQLException {
        List<Node> out = new ArrayList<>();
        for (String[] r : Sql.rows(tx, "SELECT namespace, id FROM leases")) out.add(Node.lease(r[0], r[1]));
        return out;
    }

    @Override
    public void remove(Connection tx, Node node) throws SQLException {
        // labels and resources go with it (ON DELETE CASCADE)
        Sql.update(tx, "DELETE FROM leases WHERE namespace = ? AND id = ?", node.namespace(), node.key());
    }
}
