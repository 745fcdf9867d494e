package io.jcontainerd.snapshots.storage;

import io.jcontainerd.errdefs.Errdefs;
import io.jcontainerd.filters.Filter;
import io.jcontainerd.snapshots.Info;
import io.jcontainerd.snapshots.Kind;
import io.jcontainerd.snapshots.Usage;
import java.io.IOException;
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
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * The snapshot model's operations inside one {@link MetaStore} transaction, with containerd's
 * storage semantics and error kinds. Labels with empty values are never stored (setting a label to
 * "" removes it), as containerd's label writer does.
 */
public final class Tx {
    private final Connection c;

    Tx(Connection c) {
        this.c = c;
    }

    /** A stored snapshot: its id, info, and the usage recorded at commit (zero for others). */
    public record Stored(String id, Info info, Usage usage) {}

    /** What {@link #remove} removed. */
    public record Removed(String id, Kind kind) {}

    private record Row(long id, String name, Kind kind, long parentId, Instant created, Instant updated, long size, long inodes) {}

    // ---- reads ----

    /** The snapshot {@code key} (a key or a name): NotFound if absent. */
    public Stored getInfo(String key) throws IOException {
        Row r = row(key);
        if (r == null) throw MetaStore.notFound("snapshot %s does not exist", key);
        return new Stored(Long.toString(r.id), info(r), MetaStore.zeroUnlessCommitted(r.kind, r.size, r.inodes));
    }

    /**
     * The active or view snapshot {@code key} with its parent chain: NotFound if absent,
     * FailedPrecondition if it is committed.
     */
    public Snapshot getSnapshot(String key) throws IOException {
        Row r = row(key);
        if (r == null) throw MetaStore.notFound("snapshot %s does not exist", key);
        if (r.kind != Kind.ACTIVE && r.kind != Kind.VIEW) {
            throw Errdefs.failedPrecondition("requested snapshot %s not active or view: failed precondition", key);
        }
        return new Snapshot(r.kind, Long.toString(r.id), r.parentId == 0 ? List.of() : parents(r.parentId));
    }

    /** Every snapshot matching {@code filters}, in name order. */
    public void walkInfo(Consumer<Info> fn, List<String> filters) throws IOException {
        Filter filter = Filter.parseAll(filters);
        try {
            Map<Long, Map<String, String>> labels = new HashMap<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT snapshot_id, key, value FROM labels");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) labels.computeIfAbsent(rs.getLong(1), k -> new TreeMap<>()).put(rs.getString(2), rs.getString(3));
            }
            List<Info> infos = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("""
                    SELECT s.id, s.name, s.kind, p.name, s.created, s.updated
                    FROM snapshots s LEFT JOIN snapshots p ON s.parent_id = p.id ORDER BY s.name""");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    infos.add(new Info(Kind.ofCode(rs.getInt(3)), rs.getString(2), rs.getString(4),
                            labels.getOrDefault(rs.getLong(1), Map.of()), instant(rs.getLong(5)), instant(rs.getLong(6))));
                }
            }
            for (Info i : infos) {
                if (filter.match(SnapshotAdaptor.of(i))) fn.accept(i);
            }
        } catch (SQLException e) {
            throw sql(e);
        }
    }

    /** Snapshot id → name, for every stored snapshot (what Cleanup keeps). */
    public Map<String, String> idMap() throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT id, name FROM snapshots"); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) out.put(Long.toString(rs.getLong(1)), rs.getString(2));
        } catch (SQLException e) {
            throw sql(e);
        }
        return out;
    }

    // ---- writes ----

    /**
     * Records a new active or view snapshot {@code key} on committed {@code parent} ("" for none):
     * NotFound if the parent is missing, InvalidArgument if it is not committed, AlreadyExists if
     * the key is taken. Returns the new snapshot with its parent chain.
     */
    public Snapshot createSnapshot(Kind kind, String key, String parent, Map<String, String> labels) throws IOException {
        if (kind != Kind.ACTIVE && kind != Kind.VIEW) {
            throw Errdefs.invalidArgument("snapshot type %s invalid; only snapshots of type Active or View can be created: invalid argument", kind);
        }
        long parentId = 0;
        if (parent != null && !parent.isEmpty()) {
            Row p = row(parent);
            if (p == null) throw MetaStore.notFound("missing parent \"%s\" bucket", parent);
            if (p.kind != Kind.COMMITTED) throw Errdefs.invalidArgument("parent \"%s\" is not committed snapshot: invalid argument", parent);
            parentId = p.id;
        }
        if (row(key) != null) throw Errdefs.alreadyExists("snapshot %s: already exists", key);
        long now = nanos(Instant.now());
        long id;
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO snapshots(name, kind, parent_id, created, updated) VALUES (?, ?, ?, ?, ?) RETURNING id")) {
            ps.setString(1, key);
            ps.setInt(2, kind.code());
            if (parentId == 0) ps.setNull(3, java.sql.Types.INTEGER);
            else ps.setLong(3, parentId);
            ps.setLong(4, now);
            ps.setLong(5, now);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                id = rs.getLong(1);
            }
        } catch (SQLException e) {
            throw sql(e);
        }
        writeLabels(id, labels);
        return new Snapshot(kind, Long.toString(id), parentId == 0 ? List.of() : parents(parentId));
    }

    /** Measures the layer of the active snapshot with id {@code id}, for its commit. */
    @FunctionalInterface
    public interface LayerUsage {
        Usage of(String id) throws IOException;
    }

    /**
     * Turns active {@code key} into committed {@code name}, keeping its id: AlreadyExists if name is
     * taken, NotFound if key is missing, FailedPrecondition if key is not active. Labels are replaced
     * by {@code labels}, created/updated reset, {@code usage} recorded. Returns the id.
     */
    public String commitActive(String key, String name, Usage usage, Map<String, String> labels) throws IOException {
        if (row(name) != null) throw Errdefs.alreadyExists("committed snapshot %s: already exists", name);
        Row r = row(key);
        if (r == null) throw MetaStore.notFound("failed to get active snapshot \"%s\"", key);
        if (r.kind != Kind.ACTIVE) throw Errdefs.failedPrecondition("snapshot \"%s\" is not active: failed precondition", key);
        commit(r, name, usage, labels);
        return Long.toString(r.id);
    }

    /**
     * A snapshotter's Commit in one pass: NotFound if {@code key} is missing (as {@link #getInfo}), then
     * the layer of an active key measured by {@code usage}, then {@link #commitActive}'s checks and
     * effects. Returns the id.
     */
    public String commitActive(String key, String name, LayerUsage usage, Map<String, String> labels) throws IOException {
        Row r = row(key);
        if (r == null) throw MetaStore.notFound("snapshot %s does not exist", key);
        Usage measured = r.kind == Kind.ACTIVE ? usage.of(Long.toString(r.id)) : Usage.ZERO;
        if (row(name) != null) throw Errdefs.alreadyExists("committed snapshot %s: already exists", name);
        if (r.kind != Kind.ACTIVE) throw Errdefs.failedPrecondition("snapshot \"%s\" is not active: failed precondition", key);
        commit(r, name, measured, labels);
        return Long.toString(r.id);
    }

    private void commit(Row r, String name, Usage usage, Map<String, String> labels) throws IOException {
        long now = nanos(Instant.now());
        try (PreparedStatement ps = c.prepareStatement(
                "UPDATE snapshots SET name = ?, kind = ?, created = ?, updated = ?, size = ?, inodes = ? WHERE id = ?")) {
            ps.setString(1, name);
            ps.setInt(2, Kind.COMMITTED.code());
            ps.setLong(3, now);
            ps.setLong(4, now);
            ps.setLong(5, usage.size());
            ps.setLong(6, usage.inodes());
            ps.setLong(7, r.id);
            ps.executeUpdate();
        } catch (SQLException e) {
            throw sql(e);
        }
        deleteLabels(r.id);
        writeLabels(r.id, labels);
    }

    /** Removes {@code key}: NotFound if absent, FailedPrecondition if it has children. */
    public Removed remove(String key) throws IOException {
        Row r = row(key);
        if (r == null) throw MetaStore.notFound("snapshot %s", key);
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM snapshots WHERE parent_id = ? LIMIT 1")) {
            ps.setLong(1, r.id);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) throw Errdefs.failedPrecondition("cannot remove snapshot with child: failed precondition");
            }
        } catch (SQLException e) {
            throw sql(e);
        }
        deleteLabels(r.id);
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM snapshots WHERE id = ?")) {
            ps.setLong(1, r.id);
            ps.executeUpdate();
        } catch (SQLException e) {
            throw sql(e);
        }
        return new Removed(Long.toString(r.id), r.kind);
    }

    /**
     * Updates the labels of {@code info.name()}. No field paths: all labels replaced. {@code labels}:
     * all replaced; {@code labels.<k>}: label k set to info's value (removed when info has none).
     * Any other path is InvalidArgument. Returns the stored info afterwards.
     */
    public Info updateInfo(Info info, List<String> fieldPaths) throws IOException {
        Row r = row(info.name());
        if (r == null) throw MetaStore.notFound("snapshot does not exist");
        Map<String, String> labels = new TreeMap<>(labels(r.id));
        if (fieldPaths == null || fieldPaths.isEmpty()) {
            labels = new TreeMap<>(info.labels());
        } else {
            for (String path : fieldPaths) {
                if (path.startsWith("labels.")) {
                    String k = path.substring("labels.".length());
                    String v = info.labels().get(k);
                    if (v == null) labels.remove(k);
                    else labels.put(k, v);
                } else if (path.equals("labels")) {
                    labels = new TreeMap<>(info.labels());
                } else {
                    throw Errdefs.invalidArgument("cannot update \"%s\" field on snapshot \"%s\": invalid argument", path, info.name());
                }
            }
        }
        Instant now = Instant.now();
        try (PreparedStatement ps = c.prepareStatement("UPDATE snapshots SET updated = ? WHERE id = ?")) {
            ps.setLong(1, nanos(now));
            ps.setLong(2, r.id);
            ps.executeUpdate();
        } catch (SQLException e) {
            throw sql(e);
        }
        deleteLabels(r.id);
        writeLabels(r.id, labels);
        return new Info(r.kind, r.name, parentName(r.parentId), withoutEmpty(labels), r.created, instant(nanos(now)));
    }

    // ---- helpers ----

    private Row row(String name) throws IOException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT id, name, kind, parent_id, created, updated, size, inodes FROM snapshots WHERE name = ?")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) return null;
                return new Row(rs.getLong(1), rs.getString(2), Kind.ofCode(rs.getInt(3)), rs.getLong(4),
                        instant(rs.getLong(5)), instant(rs.getLong(6)), rs.getLong(7), rs.getLong(8));
            }
        } catch (SQLException e) {
            throw sql(e);
        }
    }

    private Info info(Row r) throws IOException {
        return new Info(r.kind, r.name, parentName(r.parentId), labels(r.id), r.created, r.updated);
    }

    private String parentName(long parentId) throws IOException {
        if (parentId == 0) return "";
        try (PreparedStatement ps = c.prepareStatement("SELECT name FROM snapshots WHERE id = ?")) {
            ps.setLong(1, parentId);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) throw MetaStore.notFound("missing parent");
                return rs.getString(1);
            }
        } catch (SQLException e) {
            throw sql(e);
        }
    }

    /** Ids from {@code id} up to the base layer, in one recursive query. */
    private List<String> parents(long id) throws IOException {
        List<String> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("""
                WITH RECURSIVE chain(id, parent_id, depth) AS (
                  SELECT id, parent_id, 0 FROM snapshots WHERE id = ?
                  UNION ALL
                  SELECT s.id, s.parent_id, chain.depth + 1 FROM snapshots s JOIN chain ON s.id = chain.parent_id)
                SELECT id FROM chain ORDER BY depth""")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.add(Long.toString(rs.getLong(1)));
            }
        } catch (SQLException e) {
            throw sql(e);
        }
        if (out.isEmpty()) throw MetaStore.notFound("missing parent");
        return out;
    }

    private Map<String, String> labels(long id) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT key, value FROM labels WHERE snapshot_id = ?")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.put(rs.getString(1), rs.getString(2));
            }
        } catch (SQLException e) {
            throw sql(e);
        }
        return out;
    }

    private void deleteLabels(long id) throws IOException {
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM labels WHERE snapshot_id = ?")) {
            ps.setLong(1, id);
            ps.executeUpdate();
        } catch (SQLException e) {
            throw sql(e);
        }
    }

    private void writeLabels(long id, Map<String, String> labels) throws IOException {
        if (labels == null || labels.values().stream().allMatch(v -> v == null || v.isEmpty())) return;
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO labels(snapshot_id, key, value) VALUES (?, ?, ?)")) {
            for (var e : labels.entrySet()) {
                if (e.getValue() == null || e.getValue().isEmpty()) continue;
                ps.setLong(1, id);
                ps.setString(2, e.getKey());
                ps.setString(3, e.getValue());
                ps.addBatch();
            }
            ps.executeBatch();
        } catch (SQLException e) {
            throw sql(e);
        }
    }

    private static Map<String, String> withoutEmpty(Map<String, String> labels) {
        Map<String, String> out = new TreeMap<>();
        labels.forEach((k, v) -> {
            if (v != null && !v.isEmpty()) out.put(k, v);
        });
        return out;
    }

    static long nanos(Instant t) {
        return Math.addExact(Math.multiplyExact(t.getEpochSecond(), 1_000_000_000L), t.getNano());
    }

    static Instant instant(long nanos) {
        return Instant.ofEpochSecond(Math.floorDiv(nanos, 1_000_000_000L), Math.floorMod(nanos, 1_000_000_000L));
    }

    private static IOException sql(SQLException e) {
        return new IOException("snapshot metadata: " + e.getMessage(), e);
    }
}
