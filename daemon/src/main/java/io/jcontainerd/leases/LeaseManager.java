package io.jcontainerd.leases;

import io.jcontainerd.errdefs.Errdefs;
import io.jcontainerd.filters.Adaptors;
import io.jcontainerd.filters.Filter;
import io.jcontainerd.metadata.LeaseResources;
import io.jcontainerd.metadata.MetadataDb;
import io.jcontainerd.plugin.PluginProvider;
import io.jcontainerd.protobuf.Timestamps;
import io.jcontainerd.plugin.PluginType;
import io.jcontainerd.plugin.Registration;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Leases in the metadata database, per namespace (containerd's metadata leaseManager together with the
 * leases service's synchronous delete). Creating a lease creates its namespace if needed, as containerd.
 */
public final class LeaseManager {
    private final MetadataDb db;
    /** Seeded on the first generated id, not at boot (a SecureRandom's set-up is ~30 ms there). */
    private static final class Entropy {
        static final Random RANDOM = new SecureRandom();
    }

    public LeaseManager(MetadataDb db) {
        this.db = db;
    }

    /** Creates a lease; {@code id} null or empty gets a generated one. AlreadyExists if the id is taken. */
    public Lease create(String namespace, String id, Map<String, String> labels) {
        String leaseId = id == null || id.isEmpty() ? randomId(db.clock().instant(), Entropy.RANDOM) : id;
        Instant now = db.clock().instant();
        // containerd does not store empty labels (nor return them)
        Map<String, String> kept = new LinkedHashMap<>(labels);
        kept.values().removeIf(String::isEmpty);
        db.update(tx -> {
            db.namespaces(tx).ensure(namespace);
            if (LeaseResources.leaseExists(tx, namespace, leaseId)) {
                throw Errdefs.alreadyExists("lease \"%s\": already exists", leaseId);
            }
            try (PreparedStatement ps = tx.prepareStatement("INSERT INTO leases (namespace, id, created_at) VALUES (?, ?, ?)")) {
                ps.setString(1, namespace);
                ps.setString(2, leaseId);
                ps.setLong(3, Timestamps.toEpochNanos(now));
                ps.executeUpdate();
            }
            try (PreparedStatement ps = tx.prepareStatement(
                    "INSERT INTO lease_labels (namespace, lease_id, key, value) VALUES (?, ?, ?, ?)")) {
                for (var e : kept.entrySet()) {
                    ps.setString(1, namespace);
                    ps.setString(2, leaseId);
                    ps.setString(3, e.getKey());
                    ps.setString(4, e.getValue());
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            return null;
        });
        return new Lease(leaseId, now, kept);
    }

    /**
     * containerd's random lease id: the current time's nanoseconds within its second, a dash, and three
     * random bytes in URL-safe base64.
     */
    static String randomId(Instant now, Random random) {
        byte[] b = new byte[3];
        random.nextBytes(b);
        return now.getNano() + "-" + Base64.getUrlEncoder().encodeToString(b);
    }

    /**
     * Deletes a lease (its resources are released with it); NotFound if absent. With {@code sync}, returns
     * only after a garbage collection has run, so what only this lease held is gone.
     */
    public void delete(String namespace, String id, boolean sync) {
        db.update(tx -> {
            try (PreparedStatement ps = tx.prepareStatement("DELETE FROM leases WHERE namespace = ? AND id = ?")) {
                ps.setString(1, namespace);
                ps.setString(2, id);
                if (ps.executeUpdate() == 0) throw Errdefs.notFound("lease \"%s\": not found", id);
            }
            return null;
        });
        db.gcTrigger().dirty();
        if (sync) db.gcTrigger().collect(true);
    }

    /** Leases of the namespace matching any of {@code filters} (fields {@code id}, {@code labels.*}), by id. */
    public List<Lease> list(String namespace, List<String> filters) {
        Filter filter = Filter.parseAll(filters);
        return db.read(tx -> {
            List<Lease> out = new ArrayList<>();
            try (PreparedStatement ps = tx.prepareStatement("SELECT id, created_at FROM leases WHERE namespace = ? ORDER BY id")) {
                ps.setString(1, namespace);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        String id = rs.getString(1);
                        Map<String, String> labels = labels(tx, namespace, id);
                        if (filter.match(Adaptors.object(Map.of("id", id, "labels", Adaptors.map(labels))))) {
                            out.add(new Lease(id, Timestamps.fromEpochNanos(rs.getLong(2)), labels));
                        }
                    }
                }
            }
            return out;
        });
    }

    private static Map<String, String> labels(Connection tx, String namespace, String id) throws SQLException {
        Map<String, String> out = new LinkedHashMap<>();
        try (PreparedStatement ps = tx.prepareStatement(
                "SELECT key, value FROM lease_labels WHERE namespace = ? AND lease_id = ? ORDER BY key")) {
            ps.setString(1, namespace);
            ps.setString(2, id);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.put(rs.getString(1), rs.getString(2));
            }
        }
        return out;
    }

    public void addResource(String namespace, String id, Resource r) {
        db.update(tx -> {
            requireLease(tx, namespace, id);
            String rid = LeaseResources.normalize(r.type(), r.id());
            LeaseResources.add(tx, namespace, id, r.type(), rid);
            return null;
        });
    }

    /** Releases a resource from the lease; releasing one it does not hold is not an error. */
    public void deleteResource(String namespace, String id, Resource r) {
        db.update(tx -> {
            requireLease(tx, namespace, id);
            String rid = LeaseResources.normalize(r.type(), r.id());
            LeaseResources.remove(tx, namespace, id, r.type(), rid);
            return null;
        });
        db.gcTrigger().dirty();
    }

    /** The lease's resources: blobs, then ingests, then snapshots by snapshotter, each sorted by id. */
    public List<Resource> listResources(String namespace, String id) {
        return db.read(tx -> {
            requireLease(tx, namespace, id);
            List<Resource> out = new ArrayList<>();
            try (PreparedStatement ps = tx.prepareStatement("""
                    SELECT id, type FROM lease_resources WHERE namespace = ? AND lease_id = ?
                    ORDER BY CASE type WHEN 'content' THEN 0 WHEN 'ingests' THEN 1 ELSE 2 END, type, id""")) {
                ps.setString(1, namespace);
                ps.setString(2, id);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) out.add(new Resource(rs.getString(1), rs.getString(2)));
                }
            }
            return out;
        });
    }

    private static void requireLease(Connection tx, String namespace, String id) throws SQLException {
        if (!LeaseResources.leaseExists(tx, namespace, id)) throw Errdefs.notFound("lease \"%s\": not found", id);
    }

    /**
     * Registers {@code io.containerd.lease.v1 manager} (containerd 1.7's id; 1.6 served it as the
     * "leases-service" service plugin). It comes after GC so a collector can hook in first.
     */
    public static final class Provider implements PluginProvider {
        @Override
        public List<Registration> registrations() {
            return List.of(Registration.of(PluginType.LEASE, "manager", List.of(PluginType.METADATA, PluginType.GC),
                    ic -> new LeaseManager(ic.plugins().single(PluginType.METADATA, MetadataDb.class))));
        }
    }
}
