package io.jcontainerd.metadata;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;

/**
 * Schema version 2: namespaced content, ingests and leases. Times are nanoseconds since the epoch (UTC).
 *
 * <pre>
 * content         (namespace, digest) PK      one row per blob a namespace has committed or adopted;
 *                 size, created_at, updated_at  namespace FK without cascade: a namespace holding blobs
 *                                             cannot be deleted ("blobs" occupancy, as containerd)
 * content_labels  (namespace, digest, key)    cascade with their blob. GC reads its edges here:
 *                                             containerd.io/gc.root, containerd.io/gc.ref.content[.*]
 *                                             (value = digest in the same namespace),
 *                                             containerd.io/gc.ref.snapshot.&lt;snapshotter&gt;[/*] (value = key)
 * ingests         id (autoincrement)          one row per open or resumable write in a namespace
 *                 (namespace, ref) unique     ref = the client's ref
 *                 backend_ref unique          the backend store's ref: "&lt;namespace&gt;/&lt;id&gt;/&lt;ref&gt;", never reused
 *                 expected, expected_size     set only when the ingest adopted an existing backend blob under
 *                                             the "shared" policy (no backend data): GC must keep that blob
 *                 expires_at (nullable)       set when no lease held the ingest at creation: now + 24h;
 *                                             GC may abort unleased ingests past it
 *                 created_at                  cascade with the namespace
 * leases          (namespace, id) PK, created_at             GC roots; cascade with the namespace
 * lease_labels    (namespace, lease_id, key)                 cascade with the lease; containerd.io/gc.expire
 *                                                            (RFC 3339) ends the lease's rooting,
 *                                                            containerd.io/gc.flat limits it to direct resources
 * lease_resources (namespace, lease_id, type, id) PK         what a lease holds; cascade with the lease. type is
 *                                                            containerd's: "content" (id = digest), "ingests"
 *                                                            (id = client ref), "snapshots/&lt;snapshotter&gt;" (id = key)
 * </pre>
 *
 * For GC: roots are unexpired leases (and labelled gc.root objects); backend blobs not named by any
 * {@code content.digest} nor {@code ingests.expected} may be deleted from the backend; backend ingests
 * whose ref is not an {@code ingests.backend_ref} may be aborted.
 */
final class ContentTables {
    private ContentTables() {}

    static final List<String> MIGRATION = List.of(
            """
            CREATE TABLE content (
                namespace  TEXT NOT NULL REFERENCES namespaces(name),
                digest     TEXT NOT NULL,
                size       INTEGER NOT NULL,
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL,
                PRIMARY KEY (namespace, digest)
            )""",
            "CREATE INDEX content_by_digest ON content(digest)",
            """
            CREATE TABLE content_labels (
                namespace TEXT NOT NULL,
                digest    TEXT NOT NULL,
                key       TEXT NOT NULL,
                value     TEXT NOT NULL,
                PRIMARY KEY (namespace, digest, key),
                FOREIGN KEY (namespace, digest) REFERENCES content(namespace, digest) ON DELETE CASCADE
            )""",
            """
            CREATE TABLE ingests (
                id            INTEGER PRIMARY KEY AUTOINCREMENT,
                namespace     TEXT NOT NULL REFERENCES namespaces(name) ON DELETE CASCADE,
                ref           TEXT NOT NULL,
                backend_ref   TEXT UNIQUE,
                expected      TEXT,
                expected_size INTEGER,
                expires_at    INTEGER,
                created_at    INTEGER NOT NULL,
                UNIQUE (namespace, ref)
            )""",
            """
            CREATE TABLE leases (
                namespace  TEXT NOT NULL REFERENCES namespaces(name) ON DELETE CASCADE,
                id         TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                PRIMARY KEY (namespace, id)
            )""",
            """
            CREATE TABLE lease_labels (
                namespace TEXT NOT NULL,
                lease_id  TEXT NOT NULL,
                key       TEXT NOT NULL,
                value     TEXT NOT NULL,
                PRIMARY KEY (namespace, lease_id, key),
                FOREIGN KEY (namespace, lease_id) REFERENCES leases(namespace, id) ON DELETE CASCADE
            )""",
            """
            CREATE TABLE lease_resources (
                namespace TEXT NOT NULL,
                lease_id  TEXT NOT NULL,
                type      TEXT NOT NULL,
                id        TEXT NOT NULL,
                PRIMARY KEY (namespace, lease_id, type, id),
                FOREIGN KEY (namespace, lease_id) REFERENCES leases(namespace, id) ON DELETE CASCADE
            )""",
            "CREATE INDEX lease_resources_by_resource ON lease_resources(namespace, type, id)");

    /**
     * What blocks deleting a namespace: its blobs. As in containerd (metadata/namespaces.go), leases and
     * ingests do not: they go with the namespace, and GC then drops what only they kept.
     */
    static List<String> occupancy(Connection tx, String namespace) throws SQLException {
        List<String> held = new java.util.ArrayList<>(2);
        if (any(tx, "SELECT 1 FROM content WHERE namespace = ? LIMIT 1", namespace)) held.add("blobs");
        // containerd lets a lease go with its namespace; a lease is someone's work in progress, so we refuse
        if (any(tx, "SELECT 1 FROM leases WHERE namespace = ? LIMIT 1", namespace)) held.add("leases");
        return held;
    }

    private static boolean any(Connection tx, String sql, String namespace) throws SQLException {
        try (PreparedStatement ps = tx.prepareStatement(sql)) {
            ps.setString(1, namespace);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }
}
