package io.jcontainerd.metadata;

import io.jcontainerd.content.Digest;
import io.jcontainerd.errdefs.ContainerdException;
import io.jcontainerd.errdefs.Errdefs;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * The {@code lease_resources} table: which resources a lease holds, by containerd's resource type
 * strings. Used by the lease manager and by stores that attach what they create to the request's lease.
 */
public final class LeaseResources {
    private LeaseResources() {}

    /** A blob; id is its digest. */
    public static final String CONTENT = "content";
    /** An ingest; id is the client's ref. */
    public static final String INGESTS = "ingests";
    /** Prefix of "snapshots/&lt;snapshotter&gt;"; id is the snapshot key. */
    public static final String SNAPSHOTS = "snapshots";

    /**
     * Checks a resource as containerd's lease manager does and returns its id in stored form (a digest
     * is re-rendered). InvalidArgument for a malformed type or digest, NotImplemented for an unknown type.
     */
    public static String normalize(String type, String id) {
        String[] keys = type.split("/", -1);
        switch (keys[0]) {
            case CONTENT, INGESTS -> {
                if (keys.length != 1) throw Errdefs.invalidArgument("invalid resource type %s: invalid argument", type);
                if (keys[0].equals(CONTENT)) {
                    try {
                        return Digest.parse(id).toString();
                    } catch (ContainerdException e) {
                        throw Errdefs.invalidArgument("invalid content resource id %s: %s: invalid argument", id, e.getMessage());
                    }
                }
                return id;
            }
            case SNAPSHOTS -> {
                if (keys.length != 2) throw Errdefs.invalidArgument("invalid snapshot resource type %s: invalid argument", type);
                return id;
            }
            default -> throw Errdefs.notImplemented("resource type %s not supported yet: not implemented", type);
        }
    }

    public static boolean leaseExists(Connection tx, String namespace, String lease) throws SQLException {
        try (PreparedStatement ps = tx.prepareStatement("SELECT 1 FROM leases WHERE namespace = ? AND id = ?")) {
            ps.setString(1, namespace);
            ps.setString(2, lease);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    /** Adds a (normalized) resource to an existing lease; adding twice is harmless. */
    public static void add(Connection tx, String namespace, String lease, String type, String id) throws SQLException {
        try (PreparedStatement ps = tx.prepareStatement(
                "INSERT OR IGNORE INTO lease_resources (namespace, lease_id, type, id) VALUES (?, ?, ?, ?)")) {
            ps.setString(1, namespace);
            ps.setString(2, lease);
            ps.setString(3, type);
            ps.setString(4, id);
            ps.executeUpdate();
        }
    }

    /** Removes a resource from a lease; true if the lease held it. */
    public static boolean remove(Connection tx, String namespace, String lease, String type, String id) throws SQLException {
        try (PreparedStatement ps = tx.prepareStatement(
                "DELETE FROM lease_resources WHERE namespace = ? AND lease_id = ? AND type = ? AND id = ?")) {
            ps.setString(1, namespace);
            ps.setString(2, lease);
            ps.setString(3, type);
            ps.setString(4, id);
            return ps.executeUpdate() > 0;
        }
    }

    /**
     * Attaches a resource created under the request's lease ({@code lease} null: none). The lease must
     * exist: NotFound otherwise, as containerd.
     */
    static boolean attach(Connection tx, String namespace, String lease, String type, String id) throws SQLException {
        if (lease == null) return false;
        // one statement when the lease exists and does not hold the resource yet (the usual case)
        int added;
        try (PreparedStatement ps = tx.prepareStatement("INSERT OR IGNORE INTO lease_resources (namespace, lease_id, type, id) "
                + "SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM leases WHERE namespace = ?1 AND id = ?2)")) {
            ps.setString(1, namespace);
            ps.setString(2, lease);
            ps.setString(3, type);
            ps.setString(4, id);
            added = ps.executeUpdate();
        }
        if (added == 0 && !leaseExists(tx, namespace, lease)) throw Errdefs.notFound("lease does not exist: not found");
        return true;
    }

    /** Detaches a resource from the request's lease, if any. */
    static void detach(Connection tx, String namespace, String lease, String type, String id) throws SQLException {
        if (lease != null) remove(tx, namespace, lease, type, id);
    }

    /**
     * Detaches {@code from} and attaches {@code to} under the request's lease (a commit renaming a
     * snapshot). A lease that held {@code from} exists (its resources go with it), so it is not looked up again.
     */
    static void move(Connection tx, String namespace, String lease, String type, String from, String to) throws SQLException {
        if (lease == null) return;
        if (remove(tx, namespace, lease, type, from)) add(tx, namespace, lease, type, to);
        else attach(tx, namespace, lease, type, to);
    }
}
