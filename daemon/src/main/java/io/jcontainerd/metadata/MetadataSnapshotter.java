package io.jcontainerd.metadata;

import io.jcontainerd.errdefs.Errdefs;
import io.jcontainerd.filters.Filter;
import io.jcontainerd.mount.Mount;
import io.jcontainerd.namespaces.Namespaces;
import io.jcontainerd.protobuf.Timestamps;
import io.jcontainerd.snapshots.Info;
import io.jcontainerd.snapshots.Kind;
import io.jcontainerd.snapshots.Snapshotter;
import io.jcontainerd.snapshots.Usage;
import io.jcontainerd.snapshots.storage.SnapshotAdaptor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/**
 * containerd's metadata snapshotter: one backend snapshotter seen per namespace. Keys, parents and
 * labels live in the metadata database; the backend only sees never-reused keys
 * {@code <namespace>/<id>/<key>}. Remove only drops the record: the backend snapshot goes when the
 * garbage collector's {@link #cleanupBackend()} finds nothing naming it.
 */
public final class MetadataSnapshotter {
    /** Labels with this prefix are handed to the backend too (for snapshotters that act on them). */
    static final String INHERITED_LABEL_PREFIX = "containerd.io/snapshot/";

    private final MetadataDb db;
    private final String name;
    private final Snapshotter backend;
    private final String leaseType;

    MetadataSnapshotter(MetadataDb db, String name, Snapshotter backend) {
        this.db = db;
        this.name = name;
        this.backend = backend;
        this.leaseType = LeaseResources.SNAPSHOTS + "/" + name;
    }

    public String name() {
        return name;
    }

    public Snapshotter backend() {
        return backend;
    }

    /** The snapshotter as namespace {@code ns} sees it; new snapshots join {@code lease} (nullable). */
    public Snapshotter view(String ns, String lease) {
        return new Namespaced(ns, lease);
    }

    private record Row(long id, String key, String backendKey, String parent, Kind kind, Instant created, Instant updated) {}

    private Optional<Row> row(Connection tx, String ns, String key) throws SQLException {
        try (PreparedStatement ps = tx.prepareStatement("SELECT id, key, backend_key, parent, kind, created_at, updated_at "
                + "FROM snapshots WHERE namespace = ? AND snapshotter = ? AND key = ?")) {
            ps.setString(1, ns);
            ps.setString(2, name);
            ps.setString(3, key);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) return Optional.empty();
                return Optional.of(new Row(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4),
                        Kind.ofCode(rs.getInt(5)), Timestamps.fromEpochNanos(rs.getLong(6)), Timestamps.fromEpochNanos(rs.getLong(7))));
            }
        }
    }

    private Row require(Connection tx, String ns, String key) throws SQLException {
        return row(tx, ns, key).orElseThrow(() -> Errdefs.notFound("snapshot %s does not exist", key));
    }

    private static Map<String, String> labels(Connection tx, long id) throws SQLException {
        Map<String, String> out = new LinkedHashMap<>();
        try (PreparedStatement ps = tx.prepareStatement("SELECT key, value FROM snapshot_labels WHERE snapshot_id = ? ORDER BY key")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.put(rs.getString(1), rs.getString(2));
            }
        }
        return out;
    }

    /** Replaces the labels of snapshot {@code id}. */
    private static void writeLabels(Connection tx, long id, Map<String, String> labels) throws SQLException {
        try (PreparedStatement del = tx.prepareStatement("DELETE FROM snapshot_labels WHERE snapshot_id = ?")) {
            del.setLong(1, id);
            del.executeUpdate();
        }
        insertLabels(tx, id, labels);
    }

    /** Adds the non-empty labels; nothing to do for none (most snapshots have none). */
    private static void insertLabels(Connection tx, long id, Map<String, String> labels) throws SQLException {
        if (labels.values().stream().allMatch(String::isEmpty)) return;
        try (PreparedStatement ins = tx.prepareStatement("INSERT INTO snapshot_labels (snapshot_id, key, value) VALUES (?, ?, ?)")) {
            for (var e : labels.entrySet()) {
                if (e.getValue().isEmpty()) continue;
                ins.setLong(1, id);
                ins.setString(2, e.getKey());
                ins.setString(3, e.getValue());
                ins.addBatch();
            }
            ins.executeBatch();
        }
    }

    private static Map<String, String> inherited(Map<String, String> labels) {
        Map<String, String> out = new HashMap<>();
        labels.forEach((k, v) -> {
            if (k.startsWith(INHERITED_LABEL_PREFIX)) out.put(k, v);
        });
        return out;
    }

    private Info info(Connection tx, Row r) throws SQLException {
        return new Info(r.kind(), r.key(), r.parent(), labels(tx, r.id()), r.created(), r.updated());
    }

    /**
     * Inserts a row with its labels and returns it with its backend key, so the backend call can use it.
     * Ids are never reused (AUTOINCREMENT), so a new row has no labels to clear.
     */
    private Row insert(Connection tx, String ns, String key, String parent, Kind kind, Map<String, String> labels) throws SQLException {
        long now = Timestamps.toEpochNanos(db.clock().instant());
        long id;
        try (PreparedStatement ps = tx.prepareStatement("INSERT INTO snapshots (namespace, snapshotter, key, backend_key, parent, kind, "
                + "created_at, updated_at) VALUES (?, ?, ?, '', ?, ?, ?, ?) RETURNING id")) {
            ps.setString(1, ns);
            ps.setString(2, name);
            ps.setString(3, key);
            ps.setString(4, parent);
            ps.setInt(5, kind.code());
            ps.setLong(6, now);
            ps.setLong(7, now);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                id = rs.getLong(1);
            }
        }
        String backendKey = ns + "/" + id + "/" + key;
        try (PreparedStatement up = tx.prepareStatement("UPDATE snapshots SET backend_key = ? WHERE id = ?")) {
            up.setString(1, backendKey);
            up.setLong(2, id);
            up.executeUpdate();
        }
        insertLabels(tx, id, labels);
        Instant t = Timestamps.fromEpochNanos(now);
        return new Row(id, key, backendKey, parent, kind, t, t);
    }

    /**
     * Removes backend snapshots that no namespace's record names, leaves first, then lets the backend
     * reclaim disk. Holds no metadata lock while the backend works, so Prepare, Commit and Remove go on
     * meanwhile (containerd blocks them while it prunes). That is safe because the backend is walked
     * before the records are read: a snapshot enters the backend inside the metadata transaction that
     * records it, and the read waits for that transaction, so whatever the walk saw is either named by
     * then or garbage. Backend keys are never reused, so a record can never come to name a snapshot found
     * unnamed; one renamed by a Commit since the walk is NotFound and skipped, one given a child since
     * is FailedPrecondition and left to the next collection.
     */
    public int cleanupBackend() {
        try {
            Map<String, String> parentOf = new HashMap<>();
            backend.walk(i -> parentOf.put(i.name(), i.parent()), List.of());
            Set<String> referenced = db.view(tx -> {
                Set<String> keys = new java.util.HashSet<>();
                try (PreparedStatement ps = tx.prepareStatement("SELECT backend_key FROM snapshots WHERE snapshotter = ?")) {
                    ps.setString(1, name);
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) keys.add(rs.getString(1));
                    }
                }
                return keys;
            });
            List<String> doomed = new ArrayList<>(parentOf.keySet());
            doomed.removeIf(referenced::contains);
            // children before parents: repeatedly take the doomed snapshots no remaining snapshot points at
            List<String> order = new ArrayList<>(doomed.size());
            Map<String, Integer> children = new HashMap<>();
            parentOf.values().forEach(p -> {
                if (p != null && !p.isEmpty()) children.merge(p, 1, Integer::sum);
            });
            boolean progress = true;
            while (!doomed.isEmpty() && progress) {
                progress = false;
                for (var it = doomed.iterator(); it.hasNext(); ) {
                    String k = it.next();
                    if (children.getOrDefault(k, 0) > 0) continue;
                    order.add(k);
                    String p = parentOf.get(k);
                    if (p != null && !p.isEmpty()) children.merge(p, -1, Integer::sum);
                    it.remove();
                    progress = true;
                }
            }
            int removed = order.isEmpty() ? 0 : backend.removeAll(order);
            backend.cleanup();
            return removed;
        } catch (IOException e) {
            throw new UncheckedIOException("cleanup of snapshotter " + name + ": " + e.getMessage(), e);
        }
    }

    /** Namespace-delete guard: "snapshots on "<name>" snapshotter" while any remain. */
    List<String> occupancy(Connection tx, String ns) throws SQLException {
        try (PreparedStatement ps = tx.prepareStatement("SELECT 1 FROM snapshots WHERE namespace = ? AND snapshotter = ? LIMIT 1")) {
            ps.setString(1, ns);
            ps.setString(2, name);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? List.of("snapshots on \"" + name + "\" snapshotter") : List.of();
            }
        }
    }

    private final class Namespaced implements Snapshotter {
        private final String ns;
        private final String lease;

        Namespaced(String ns, String lease) {
            this.ns = ns;
            this.lease = lease;
        }

        @Override
        public Info stat(String key) throws IOException {
            return db.read(tx -> info(tx, require(tx, ns, key)));
        }

        @Override
        public Info update(Info info, List<String> fieldPaths) throws IOException {
            if (info.name() == null || info.name().isEmpty()) throw Errdefs.invalidArgument("snapshot name must not be empty");
            return db.update(tx -> {
                Row r = require(tx, ns, info.name());
                Map<String, String> labels = new LinkedHashMap<>(labels(tx, r.id()));
                if (fieldPaths.isEmpty()) {
                    labels = new LinkedHashMap<>(info.labels());
                }
                for (String p : fieldPaths) {
                    if (p.equals("labels")) {
                        labels = new LinkedHashMap<>(info.labels());
                    } else if (p.startsWith("labels.")) {
                        String k = p.substring("labels.".length());
                        labels.put(k, info.labels().getOrDefault(k, ""));
                    } else {
                        throw Errdefs.invalidArgument("cannot update %s field on snapshot %s", p, info.name());
                    }
                }
                labels.values().removeIf(String::isEmpty);
                Namespaces.validateLabels(labels);
                writeLabels(tx, r.id(), labels);
                try (PreparedStatement ps = tx.prepareStatement("UPDATE snapshots SET updated_at = ? WHERE id = ?")) {
                    ps.setLong(1, Timestamps.toEpochNanos(db.clock().instant()));
                    ps.setLong(2, r.id());
                    ps.executeUpdate();
                }
                return info(tx, require(tx, ns, info.name()));
            });
        }

        @Override
        public Usage usage(String key) throws IOException {
            String bkey = db.view(tx -> require(tx, ns, key).backendKey());
            return backend.usage(bkey);
        }

        @Override
        public List<Mount> mounts(String key) throws IOException {
            String bkey = db.view(tx -> require(tx, ns, key).backendKey());
            return backend.mounts(bkey);
        }

        @Override
        public List<Mount> prepare(String key, String parent, Map<String, String> labels) throws IOException {
            return create(key, parent, labels, false);
        }

        @Override
        public List<Mount> view(String key, String parent, Map<String, String> labels) throws IOException {
            return create(key, parent, labels, true);
        }

        private List<Mount> create(String key, String parent, Map<String, String> labels, boolean readonly) throws IOException {
            if (key == null || key.isEmpty()) throw Errdefs.invalidArgument("key must not be empty");
            Namespaces.validateLabels(labels);
            String p = parent == null ? "" : parent;
            return db.updateIo(tx -> {
                new NamespaceStore(tx, db.clock()).ensure(ns);
                if (row(tx, ns, key).isPresent()) throw Errdefs.alreadyExists("snapshot %s already exists", key);
                String bparent = "";
                if (!p.isEmpty()) {
                    Row pr = row(tx, ns, p).orElseThrow(() -> Errdefs.notFound("parent snapshot %s does not exist", p));
                    if (pr.kind() != Kind.COMMITTED) throw Errdefs.invalidArgument("parent %s is not a committed snapshot", p);
                    bparent = pr.backendKey();
                }
                Row r = insert(tx, ns, key, p, readonly ? Kind.VIEW : Kind.ACTIVE, labels);
                LeaseResources.attach(tx, ns, lease, leaseType, key);
                return readonly ? backend.view(r.backendKey(), bparent, inherited(labels))
                        : backend.prepare(r.backendKey(), bparent, inherited(labels));
            });
        }

        @Override
        public void commit(String commitName, String key, Map<String, String> labels) throws IOException {
            if (commitName == null || commitName.isEmpty()) throw Errdefs.invalidArgument("name must not be empty");
            Namespaces.validateLabels(labels);
            db.updateIo(tx -> {
                Row active = require(tx, ns, key);
                if (active.kind() != Kind.ACTIVE) throw Errdefs.failedPrecondition("snapshot %s is not active", key);
                if (row(tx, ns, commitName).isPresent()) throw Errdefs.alreadyExists("snapshot %s already exists", commitName);
                Row committed = insert(tx, ns, commitName, active.parent(), Kind.COMMITTED, labels);
                try (PreparedStatement del = tx.prepareStatement("DELETE FROM snapshots WHERE id = ?")) {
                    del.setLong(1, active.id());
                    del.executeUpdate();
                }
                LeaseResources.move(tx, ns, lease, leaseType, key, commitName);
                backend.commit(committed.backendKey(), active.backendKey(), inherited(labels));
                return null;
            });
        }

        @Override
        public void remove(String key) throws IOException {
            db.update(tx -> {
                // one statement in the common case: the row goes unless a snapshot names it as parent
                boolean removed;
                try (PreparedStatement del = tx.prepareStatement("DELETE FROM snapshots WHERE namespace = ?1 AND snapshotter = ?2 "
                        + "AND key = ?3 AND NOT EXISTS (SELECT 1 FROM snapshots WHERE namespace = ?1 AND snapshotter = ?2 AND parent = ?3)")) {
                    del.setString(1, ns);
                    del.setString(2, name);
                    del.setString(3, key);
                    removed = del.executeUpdate() > 0;
                }
                if (!removed) {
                    require(tx, ns, key);
                    throw Errdefs.failedPrecondition("cannot remove snapshot with child");
                }
                LeaseResources.detach(tx, ns, lease, leaseType, key);
                return null;
            });
            db.gcTrigger().snapshotRemoved(ns, name, key);
        }

        @Override
        public void walk(Consumer<Info> fn, List<String> filters) throws IOException {
            Filter filter = Filter.parseAll(filters);
            List<Info> infos = db.read(tx -> {
                List<Row> rows = new ArrayList<>();
                try (PreparedStatement ps = tx.prepareStatement("SELECT id, key, backend_key, parent, kind, created_at, updated_at "
                        + "FROM snapshots WHERE namespace = ? AND snapshotter = ? ORDER BY key")) {
                    ps.setString(1, ns);
                    ps.setString(2, name);
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            rows.add(new Row(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4), Kind.ofCode(rs.getInt(5)),
                                    Timestamps.fromEpochNanos(rs.getLong(6)), Timestamps.fromEpochNanos(rs.getLong(7))));
                        }
                    }
                }
                List<Info> out = new ArrayList<>();
                for (Row r : rows) out.add(info(tx, r));
                return out;
            });
            for (Info i : infos) {
                if (filter.match(SnapshotAdaptor.of(i))) fn.accept(i);
            }
        }

        @Override
        public void cleanup() {
            cleanupBackend();
        }

        @Override
        public void close() {
            // the backend belongs to its plugin
        }
    }
}
