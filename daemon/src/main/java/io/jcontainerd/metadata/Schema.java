package io.jcontainerd.metadata;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * Forward-only schema migrations. Each migration runs once, in order, inside the opening
 * transaction; the version reached is recorded in {@code schema_version}. A database newer than
 * this binary knows is refused rather than misread.
 */
final class Schema {
    private Schema() {}

    record Migration(int version, List<String> statements) {}

    static final List<Migration> MIGRATIONS = List.of(
            new Migration(1, List.of(
                    """
                    CREATE TABLE namespaces (
                        name       TEXT PRIMARY KEY,
                        created_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL
                    )""",
                    """
                    CREATE TABLE namespace_labels (
                        namespace TEXT NOT NULL REFERENCES namespaces(name) ON DELETE CASCADE,
                        key       TEXT NOT NULL,
                        value     TEXT NOT NULL,
                        PRIMARY KEY (namespace, key)
                    )""")),
            // Content, ingests and leases: documented in ContentTables.
            new Migration(2, ContentTables.MIGRATION),
            // Images: name -> target descriptor; labels and target annotations in side tables.
            // GC reads images as roots and follows target_digest to content.
            new Migration(3, List.of(
                    """
                    CREATE TABLE images (
                        namespace         TEXT NOT NULL REFERENCES namespaces(name),
                        name              TEXT NOT NULL,
                        target_media_type TEXT NOT NULL,
                        target_digest     TEXT NOT NULL,
                        target_size       INTEGER NOT NULL,
                        created_at        INTEGER NOT NULL,
                        updated_at        INTEGER NOT NULL,
                        PRIMARY KEY (namespace, name)
                    )""",
                    "CREATE INDEX images_by_target ON images (namespace, target_digest)",
                    """
                    CREATE TABLE image_labels (
                        namespace TEXT NOT NULL,
                        name      TEXT NOT NULL,
                        key       TEXT NOT NULL,
                        value     TEXT NOT NULL,
                        PRIMARY KEY (namespace, name, key),
                        FOREIGN KEY (namespace, name) REFERENCES images(namespace, name) ON DELETE CASCADE
                    )""",
                    """
                    CREATE TABLE image_annotations (
                        namespace TEXT NOT NULL,
                        name      TEXT NOT NULL,
                        key       TEXT NOT NULL,
                        value     TEXT NOT NULL,
                        PRIMARY KEY (namespace, name, key),
                        FOREIGN KEY (namespace, name) REFERENCES images(namespace, name) ON DELETE CASCADE
                    )""")),
            // Containers: the record a task is created from. spec, runtime options and extensions are
            // serialized google.protobuf.Any values. GC reads containers as roots referencing their
            // snapshot (snapshotter, snapshot_key) and image.
            new Migration(4, List.of(
                    """
                    CREATE TABLE containers (
                        namespace       TEXT NOT NULL REFERENCES namespaces(name),
                        id              TEXT NOT NULL,
                        image           TEXT NOT NULL,
                        runtime_name    TEXT NOT NULL,
                        runtime_options BLOB,
                        spec            BLOB NOT NULL,
                        snapshotter     TEXT NOT NULL,
                        snapshot_key    TEXT NOT NULL,
                        created_at      INTEGER NOT NULL,
                        updated_at      INTEGER NOT NULL,
                        PRIMARY KEY (namespace, id)
                    )""",
                    """
                    CREATE TABLE container_labels (
                        namespace TEXT NOT NULL,
                        id        TEXT NOT NULL,
                        key       TEXT NOT NULL,
                        value     TEXT NOT NULL,
                        PRIMARY KEY (namespace, id, key),
                        FOREIGN KEY (namespace, id) REFERENCES containers(namespace, id) ON DELETE CASCADE
                    )""",
                    """
                    CREATE TABLE container_extensions (
                        namespace TEXT NOT NULL,
                        id        TEXT NOT NULL,
                        name      TEXT NOT NULL,
                        value     BLOB NOT NULL,
                        PRIMARY KEY (namespace, id, name),
                        FOREIGN KEY (namespace, id) REFERENCES containers(namespace, id) ON DELETE CASCADE
                    )""")),
            // Snapshots, per namespace and snapshotter: the client's key (or committed name) maps to a
            // backend key "<namespace>/<id>/<key>" that is never reused. GC reads parent and labels as
            // references; the backend cleanup removes backend snapshots no row names.
            new Migration(5, List.of(
                    """
                    CREATE TABLE snapshots (
                        id          INTEGER PRIMARY KEY AUTOINCREMENT,
                        namespace   TEXT NOT NULL REFERENCES namespaces(name),
                        snapshotter TEXT NOT NULL,
                        key         TEXT NOT NULL,
                        backend_key TEXT NOT NULL,
                        parent      TEXT NOT NULL,
                        kind        INTEGER NOT NULL,
                        created_at  INTEGER NOT NULL,
                        updated_at  INTEGER NOT NULL,
                        UNIQUE (namespace, snapshotter, key)
                    )""",
                    "CREATE INDEX snapshots_by_parent ON snapshots (namespace, snapshotter, parent)",
                    """
                    CREATE TABLE snapshot_labels (
                        snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
                        key         TEXT NOT NULL,
                        value       TEXT NOT NULL,
                        PRIMARY KEY (snapshot_id, key)
                    )""")));

    static int version(Connection tx) throws SQLException {
        try (Statement st = tx.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
            try (ResultSet rs = st.executeQuery("SELECT version FROM schema_version")) {
                return rs.next() ? rs.getInt(1) : 0;
            }
        }
    }

    static void migrate(Connection tx, List<Migration> migrations) throws SQLException {
        int current = version(tx);
        int latest = migrations.getLast().version();
        if (current > latest) {
            throw new SQLException("metadata schema version " + current + " is newer than this jcontainerd supports (" + latest + ")");
        }
        try (Statement st = tx.createStatement()) {
            for (Migration m : migrations) {
                if (m.version() <= current) continue;
                for (String sql : m.statements()) st.execute(sql);
                current = m.version();
            }
            st.execute("DELETE FROM schema_version");
            st.execute("INSERT INTO schema_version (version) VALUES (" + current + ")");
        }
    }
}
