package io.jcontainerd.metadata;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import io.jcontainerd.api.services.containers.v1.Container;
import io.jcontainerd.errdefs.Errdefs;
import io.jcontainerd.filters.Filter;
import io.jcontainerd.namespaces.Namespaces;
import io.jcontainerd.protobuf.Timestamps;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Container records of one namespace inside a metadata transaction (containerd's metadata container
 * store). Records are the API's {@link Container} message: it maps field for field onto the table.
 */
public final class ContainerStore {
    private final Connection tx;
    private final String namespace;
    private final Clock clock;

    ContainerStore(Connection tx, String namespace, Clock clock) {
        this.tx = tx;
        this.namespace = namespace;
        this.clock = clock;
    }

    public Container get(String id) throws SQLException {
        return find(id).orElseThrow(() -> Errdefs.notFound("container \"%s\" in namespace \"%s\": not found", id, namespace));
    }

    private Optional<Container> find(String id) throws SQLException {
        try (PreparedStatement ps = tx.prepareStatement("SELECT image, runtime_name, runtime_options, spec, snapshotter, "
                + "snapshot_key, created_at, updated_at FROM containers WHERE namespace = ? AND id = ?")) {
            ps.setString(1, namespace);
            ps.setString(2, id);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) return Optional.empty();
                Container.Runtime.Builder runtime = Container.Runtime.newBuilder().setName(rs.getString(2));
                byte[] opts = rs.getBytes(3);
                if (opts != null) runtime.setOptions(parseAny(opts));
                Container.Builder c = Container.newBuilder().setId(id).setImage(rs.getString(1)).setRuntime(runtime)
                        .setSpec(parseAny(rs.getBytes(4))).setSnapshotter(rs.getString(5)).setSnapshotKey(rs.getString(6))
                        .setCreatedAt(Timestamps.of(Timestamps.fromEpochNanos(rs.getLong(7))))
                        .setUpdatedAt(Timestamps.of(Timestamps.fromEpochNanos(rs.getLong(8))));
                c.putAllLabels(LabelTable.CONTAINER_LABELS.read(tx, namespace, id));
                c.putAllExtensions(extensions(id));
                return Optional.of(c.build());
            }
        }
    }

    public List<Container> list(Filter filter) throws SQLException {
        List<String> ids = new ArrayList<>();
        try (PreparedStatement ps = tx.prepareStatement("SELECT id FROM containers WHERE namespace = ? ORDER BY id")) {
            ps.setString(1, namespace);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) ids.add(rs.getString(1));
            }
        }
        List<Container> out = new ArrayList<>();
        for (String id : ids) {
            Container c = get(id);
            if (filter.match(path -> field(c, path))) out.add(c);
        }
        return out;
    }

    /** Filter fields as containerd's container adaptor: id, runtime.name, image, labels.*. */
    static Optional<String> field(Container c, List<String> path) {
        if (path.isEmpty()) return Optional.empty();
        return switch (path.getFirst()) {
            case "id" -> nonEmpty(c.getId());
            case "image" -> nonEmpty(c.getImage());
            case "runtime" -> path.size() == 2 && path.get(1).equals("name") ? nonEmpty(c.getRuntime().getName()) : Optional.empty();
            case "labels" -> path.size() < 2 ? Optional.empty()
                    : Optional.ofNullable(c.getLabelsMap().get(String.join(".", path.subList(1, path.size()))));
            default -> Optional.empty();
        };
    }

    private static Optional<String> nonEmpty(String s) {
        return s.isEmpty() ? Optional.empty() : Optional.of(s);
    }

    public Container create(Container c) throws SQLException {
        validate(c);
        new NamespaceStore(tx, clock).ensure(namespace);
        if (find(c.getId()).isPresent()) throw Errdefs.alreadyExists("container \"%s\": already exists", c.getId());
        Instant now = clock.instant();
        try (PreparedStatement ps = tx.prepareStatement("INSERT INTO containers (namespace, id, image, runtime_name, "
                + "runtime_options, spec, snapshotter, snapshot_key, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            ps.setString(1, namespace);
            ps.setString(2, c.getId());
            bindBody(ps, 3, c);
            ps.setLong(9, Timestamps.toEpochNanos(now));
            ps.setLong(10, Timestamps.toEpochNanos(now));
            ps.executeUpdate();
        }
        LabelTable.CONTAINER_LABELS.write(tx, namespace, c.getId(), c.getLabelsMap());
        writeExtensions(c.getId(), c.getExtensionsMap());
        return get(c.getId());
    }

    /**
     * Applies {@code fieldpaths} (labels, labels.k, spec, extensions, extensions.k, image, snapshotkey)
     * from {@code c}; with none, those fields are all replaced and the immutable snapshotter and runtime
     * name must be unchanged.
     */
    public Container update(Container c, List<String> fieldpaths) throws SQLException {
        if (c.getId().isEmpty()) throw Errdefs.invalidArgument("must specify a container id");
        Container current = find(c.getId()).orElseThrow(() ->
                Errdefs.notFound("cannot update container \"%s\" in namespace \"%s\": not found", c.getId(), namespace));
        List<String> paths = fieldpaths;
        if (paths.isEmpty()) {
            paths = List.of("labels", "spec", "extensions", "image", "snapshotkey");
            if (!current.getSnapshotter().equals(c.getSnapshotter())) throw Errdefs.invalidArgument("container.Snapshotter field is immutable");
            if (!current.getRuntime().getName().equals(c.getRuntime().getName())) {
                throw Errdefs.invalidArgument("container.Runtime.Name field is immutable");
            }
        }
        Container.Builder u = current.toBuilder();
        Map<String, String> labels = new LinkedHashMap<>(current.getLabelsMap());
        Map<String, Any> extensions = new LinkedHashMap<>(current.getExtensionsMap());
        for (String path : paths) {
            if (path.startsWith("labels.")) {
                String k = path.substring("labels.".length());
                labels.put(k, c.getLabelsOrDefault(k, ""));
            } else if (path.startsWith("extensions.")) {
                String k = path.substring("extensions.".length());
                if (c.containsExtensions(k)) extensions.put(k, c.getExtensionsOrThrow(k));
                else extensions.remove(k);
            } else {
                switch (path) {
                    case "labels" -> labels = new LinkedHashMap<>(c.getLabelsMap());
                    case "spec" -> u.setSpec(c.getSpec());
                    case "extensions" -> extensions = new LinkedHashMap<>(c.getExtensionsMap());
                    case "image" -> u.setImage(c.getImage());
                    case "snapshotkey" -> u.setSnapshotKey(c.getSnapshotKey());
                    default -> throw Errdefs.invalidArgument("cannot update \"%s\" field on \"%s\"", path, c.getId());
                }
            }
        }
        labels.values().removeIf(String::isEmpty);
        u.clearLabels().putAllLabels(labels).clearExtensions().putAllExtensions(extensions)
                .setUpdatedAt(Timestamps.of(clock.instant()));
        Container updated = u.build();
        try {
            validate(updated);
        } catch (RuntimeException e) {
            throw Errdefs.invalidArgument("update failed validation: %s", e.getMessage());
        }
        try (PreparedStatement ps = tx.prepareStatement("UPDATE containers SET image = ?, runtime_name = ?, runtime_options = ?, "
                + "spec = ?, snapshotter = ?, snapshot_key = ?, updated_at = ? WHERE namespace = ? AND id = ?")) {
            bindBody(ps, 1, updated);
            ps.setLong(7, Timestamps.toEpochNanos(Timestamps.toInstant(updated.getUpdatedAt())));
            ps.setString(8, namespace);
            ps.setString(9, updated.getId());
            ps.executeUpdate();
        }
        LabelTable.CONTAINER_LABELS.write(tx, namespace, updated.getId(), labels);
        writeExtensions(updated.getId(), extensions);
        return updated;
    }

    public void delete(String id) throws SQLException {
        try (PreparedStatement ps = tx.prepareStatement("DELETE FROM containers WHERE namespace = ? AND id = ?")) {
            ps.setString(1, namespace);
            ps.setString(2, id);
            if (ps.executeUpdate() == 0) {
                throw Errdefs.notFound("cannot delete container \"%s\" in namespace \"%s\": not found", id, namespace);
            }
        }
    }

    /** containerd's container validation: id, extension keys, labels, runtime name, spec, snapshotter. */
    static void validate(Container c) {
        try {
            Namespaces.validateIdentifier(c.getId());
        } catch (RuntimeException e) {
            throw Errdefs.invalidArgument("container.ID: %s", e.getMessage());
        }
        for (String k : c.getExtensionsMap().keySet()) {
            if (k.isEmpty()) throw Errdefs.invalidArgument("container.Extension keys must not be zero-length");
        }
        Namespaces.validateLabels(c.getLabelsMap());
        if (c.getRuntime().getName().isEmpty()) throw Errdefs.invalidArgument("container.Runtime.Name must be set");
        if (!c.hasSpec()) throw Errdefs.invalidArgument("container.Spec must be set");
        if (!c.getSnapshotKey().isEmpty() && c.getSnapshotter().isEmpty()) {
            throw Errdefs.invalidArgument("container.Snapshotter must be set if container.SnapshotKey is set");
        }
    }

    private static void bindBody(PreparedStatement ps, int at, Container c) throws SQLException {
        ps.setString(at, c.getImage());
        ps.setString(at + 1, c.getRuntime().getName());
        ps.setBytes(at + 2, c.getRuntime().hasOptions() ? c.getRuntime().getOptions().toByteArray() : null);
        ps.setBytes(at + 3, c.getSpec().toByteArray());
        ps.setString(at + 4, c.getSnapshotter());
        ps.setString(at + 5, c.getSnapshotKey());
    }

    private static Any parseAny(byte[] b) throws SQLException {
        try {
            return Any.parseFrom(b);
        } catch (InvalidProtocolBufferException e) {
            throw new SQLException("corrupt Any in containers table: " + e.getMessage(), e);
        }
    }

    private Map<String, Any> extensions(String id) throws SQLException {
        Map<String, Any> out = new LinkedHashMap<>();
        try (PreparedStatement ps = tx.prepareStatement("SELECT name, value FROM container_extensions WHERE namespace = ? AND id = ? ORDER BY name")) {
            ps.setString(1, namespace);
            ps.setString(2, id);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.put(rs.getString(1), parseAny(rs.getBytes(2)));
            }
        }
        return out;
    }

    private void writeExtensions(String id, Map<String, Any> extensions) throws SQLException {
        exec("DELETE FROM container_extensions WHERE namespace = ? AND id = ?", id);
        try (PreparedStatement ins = tx.prepareStatement("INSERT INTO container_extensions (namespace, id, name, value) VALUES (?, ?, ?, ?)")) {
            for (var e : extensions.entrySet()) {
                ins.setString(1, namespace);
                ins.setString(2, id);
                ins.setString(3, e.getKey());
                ins.setBytes(4, e.getValue().toByteArray());
                ins.addBatch();
            }
            ins.executeBatch();
        }
    }

    private void exec(String sql, String id) throws SQLException {
        try (PreparedStatement ps = tx.prepareStatement(sql)) {
            ps.setString(1, namespace);
            ps.setString(2, id);
            ps.executeUpdate();
        }
    }

    /** Namespace-delete guard: "containers" while any remain. */
    static List<String> occupancy(Connection tx, String namespace) throws SQLException {
        try (PreparedStatement ps = tx.prepareStatement("SELECT 1 FROM containers WHERE namespace = ? LIMIT 1")) {
            ps.setString(1, namespace);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? List.of("containers") : List.of();
            }
        }
    }
}
