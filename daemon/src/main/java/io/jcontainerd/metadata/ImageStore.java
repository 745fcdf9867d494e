package io.jcontainerd.metadata;

import io.jcontainerd.errdefs.Errdefs;
import io.jcontainerd.filters.Filter;
import io.jcontainerd.images.Image;
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

/** Image records of one namespace inside a metadata transaction (containerd's metadata image store). */
public final class ImageStore {
    private final Connection tx;
    private final String namespace;
    private final Clock clock;

    ImageStore(Connection tx, String namespace, Clock clock) {
        this.tx = tx;
        this.namespace = namespace;
        this.clock = clock;
    }

    public Image get(String name) throws SQLException {
        return find(name).orElseThrow(() -> Errdefs.notFound("image \"%s\": not found", name));
    }

    private Optional<Image> find(String name) throws SQLException {
        try (PreparedStatement ps = tx.prepareStatement(
                "SELECT target_media_type, target_digest, target_size, created_at, updated_at FROM images WHERE namespace = ? AND name = ?")) {
            ps.setString(1, namespace);
            ps.setString(2, name);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) return Optional.empty();
                return Optional.of(new Image(name, read("image_labels", name),
                        new Image.Descriptor(rs.getString(1), rs.getString(2), rs.getLong(3), read("image_annotations", name)),
                        Timestamps.fromEpochNanos(rs.getLong(4)), Timestamps.fromEpochNanos(rs.getLong(5))));
            }
        }
    }

    public List<Image> list(Filter filter) throws SQLException {
        List<String> names = new ArrayList<>();
        try (PreparedStatement ps = tx.prepareStatement("SELECT name FROM images WHERE namespace = ? ORDER BY name")) {
            ps.setString(1, namespace);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) names.add(rs.getString(1));
            }
        }
        List<Image> out = new ArrayList<>();
        for (String n : names) {
            Image img = get(n);
            if (filter.match(path -> field(img, path))) out.add(img);
        }
        return out;
    }

    /** Filter fields as containerd's image adaptor: name, target.digest, target.mediatype, labels.*, annotations.*. */
    static Optional<String> field(Image img, List<String> path) {
        if (path.isEmpty()) return Optional.empty();
        String rest = String.join(".", path.subList(1, path.size()));
        return switch (path.getFirst()) {
            case "name" -> nonEmpty(img.name());
            case "target" -> switch (rest) {
                case "digest" -> nonEmpty(img.target().digest());
                case "mediatype" -> nonEmpty(img.target().mediaType());
                default -> Optional.empty();
            };
            case "labels" -> path.size() < 2 ? Optional.empty() : Optional.ofNullable(img.labels().get(rest));
            case "annotations" -> path.size() < 2 ? Optional.empty() : Optional.ofNullable(img.target().annotations().get(rest));
            default -> Optional.empty();
        };
    }

    private static Optional<String> nonEmpty(String s) {
        return s == null || s.isEmpty() ? Optional.empty() : Optional.of(s);
    }

    public Image create(Image image) throws SQLException {
        image.validate();
        new NamespaceStore(tx, clock).ensure(namespace);
        if (find(image.name()).isPresent()) throw Errdefs.alreadyExists("image \"%s\": already exists", image.name());
        Instant now = clock.instant();
        Image created = new Image(image.name(), image.labels(), image.target(), now, now);
        try (PreparedStatement ps = tx.prepareStatement("INSERT INTO images (namespace, name, target_media_type, target_digest, "
                + "target_size, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)")) {
            ps.setString(1, namespace);
            ps.setString(2, image.name());
            bindTarget(ps, 3, image.target());
            ps.setLong(6, Timestamps.toEpochNanos(now));
            ps.setLong(7, Timestamps.toEpochNanos(now));
            ps.executeUpdate();
        }
        write("image_labels", image.name(), image.labels());
        write("image_annotations", image.name(), image.target().annotations());
        return created;
    }

    /**
     * Updates {@code fieldpaths} ("labels", "labels.k", "target", "annotations", "annotations.k") of the
     * stored image from {@code image}; no paths replaces everything but the creation time.
     */
    public Image update(Image image, List<String> fieldpaths) throws SQLException {
        if (image.name() == null || image.name().isEmpty()) throw Errdefs.invalidArgument("image name is required for update");
        Image current = get(image.name());
        Map<String, String> labels = new LinkedHashMap<>(current.labels());
        Image.Descriptor target = current.target();
        Map<String, String> annotations = new LinkedHashMap<>(target.annotations());
        if (fieldpaths.isEmpty()) {
            labels = new LinkedHashMap<>(image.labels());
            target = image.target();
            annotations = new LinkedHashMap<>(image.target() == null ? Map.of() : image.target().annotations());
        }
        for (String path : fieldpaths) {
            if (path.startsWith("labels.")) {
                String k = path.substring("labels.".length());
                labels.put(k, image.labels().getOrDefault(k, ""));
            } else if (path.startsWith("annotations.")) {
                String k = path.substring("annotations.".length());
                annotations.put(k, image.target() == null ? "" : image.target().annotations().getOrDefault(k, ""));
            } else {
                switch (path) {
                    case "labels" -> labels = new LinkedHashMap<>(image.labels());
                    case "target" -> {
                        target = image.target();
                        annotations = new LinkedHashMap<>(target == null ? Map.of() : target.annotations());
                    }
                    case "annotations" -> annotations = new LinkedHashMap<>(image.target() == null ? Map.of() : image.target().annotations());
                    default -> throw Errdefs.invalidArgument("cannot update \"%s\" field on image \"%s\"", path, image.name());
                }
            }
        }
        labels.values().removeIf(String::isEmpty);
        annotations.values().removeIf(String::isEmpty);
        Image.Descriptor newTarget = target == null ? null
                : new Image.Descriptor(target.mediaType(), target.digest(), target.size(), annotations);
        Image updated = new Image(image.name(), labels, newTarget, current.createdAt(), clock.instant());
        updated.validate();
        try (PreparedStatement ps = tx.prepareStatement("UPDATE images SET target_media_type = ?, target_digest = ?, "
                + "target_size = ?, updated_at = ? WHERE namespace = ? AND name = ?")) {
            bindTarget(ps, 1, newTarget);
            ps.setLong(4, Timestamps.toEpochNanos(updated.updatedAt()));
            ps.setString(5, namespace);
            ps.setString(6, image.name());
            ps.executeUpdate();
        }
        write("image_labels", image.name(), labels);
        write("image_annotations", image.name(), annotations);
        return updated;
    }

    public void delete(String name) throws SQLException {
        try (PreparedStatement ps = tx.prepareStatement("DELETE FROM images WHERE namespace = ? AND name = ?")) {
            ps.setString(1, namespace);
            ps.setString(2, name);
            if (ps.executeUpdate() == 0) throw Errdefs.notFound("image \"%s\": not found", name);
        }
    }

    private static void bindTarget(PreparedStatement ps, int at, Image.Descriptor d) throws SQLException {
        ps.setString(at, d.mediaType());
        ps.setString(at + 1, d.digest());
        ps.setLong(at + 2, d.size());
    }

    private Map<String, String> read(String table, String name) throws SQLException {
        Map<String, String> out = new LinkedHashMap<>();
        try (PreparedStatement ps = tx.prepareStatement("SELECT key, value FROM " + table + " WHERE namespace = ? AND name = ? ORDER BY key")) {
            ps.setString(1, namespace);
            ps.setString(2, name);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.put(rs.getString(1), rs.getString(2));
            }
        }
        return out;
    }

    private void write(String table, String name, Map<String, String> values) throws SQLException {
        try (PreparedStatement del = tx.prepareStatement("DELETE FROM " + table + " WHERE namespace = ? AND name = ?")) {
            del.setString(1, namespace);
            del.setString(2, name);
            del.executeUpdate();
        }
        try (PreparedStatement ins = tx.prepareStatement("INSERT INTO " + table + " (namespace, name, key, value) VALUES (?, ?, ?, ?)")) {
            for (var e : values.entrySet()) {
                if (e.getValue().isEmpty()) continue;
                ins.setString(1, namespace);
                ins.setString(2, name);
                ins.setString(3, e.getKey());
                ins.setString(4, e.getValue());
                ins.addBatch();
            }
            ins.executeBatch();
        }
    }

    /** Namespace-delete guard: "images" while any remain. */
    static List<String> occupancy(Connection tx, String namespace) throws SQLException {
        try (PreparedStatement ps = tx.prepareStatement("SELECT 1 FROM images WHERE namespace = ? LIMIT 1")) {
            ps.setString(1, namespace);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? List.of("images") : List.of();
            }
        }
    }
}
