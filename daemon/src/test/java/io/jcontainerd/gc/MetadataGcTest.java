package io.jcontainerd.gc;

import static org.assertj.core.api.Assertions.assertThat;

import io.jcontainerd.content.ContentStore;
import io.jcontainerd.content.Digest;
import io.jcontainerd.content.Info;
import io.jcontainerd.content.ReaderAt;
import io.jcontainerd.content.Status;
import io.jcontainerd.content.Writer;
import io.jcontainerd.errdefs.Errdefs;
import io.jcontainerd.protobuf.Timestamps;
import io.jcontainerd.metadata.MetadataDb;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The content, ingest and lease resources over the real schema (rows written with plain SQL). */
class MetadataGcTest {
    static final Instant T0 = Instant.parse("2024-01-01T00:00:00Z");

    @TempDir
    Path dir;
    MetadataDb db;
    MutableClock clock = new MutableClock(T0);
    GarbageCollector gc;

    static String d(char c) {
        return "sha256:" + String.valueOf(c).repeat(64);
    }

    /** The un-namespaced store the cleanup works on: only what it touches is implemented. */
    static final class Backend implements ContentStore {
        final Set<String> blobs = new TreeSet<>();
        final Set<String> ingests = new TreeSet<>();
        int failDeletes;

        @Override
        public Info info(Digest digest) {
            if (!blobs.contains(digest.toString())) throw Errdefs.notFound("content digest %s: not found", digest);
            return new Info(digest, 1, T0, T0, Map.of());
        }

        @Override
        public void walk(List<String> filters, WalkFn fn) throws IOException {
            for (String b : List.copyOf(blobs)) fn.accept(info(Digest.parse(b)));
        }

        @Override
        public void delete(Digest digest) throws IOException {
            if (failDeletes > 0) {
                failDeletes--;
                throw new IOException("daemon killed");
            }
            if (!blobs.remove(digest.toString())) throw Errdefs.notFound("content digest %s: not found", digest);
        }

        @Override
        public List<Status> listStatuses(List<String> filters) {
            List<Status> out = new ArrayList<>();
            for (String r : ingests) out.add(new Status(r, 0, 0, null, T0, T0));
            return out;
        }

        @Override
        public void abort(String ref) {
            if (!ingests.remove(ref)) throw Errdefs.notFound("ingest ref %s: not found", ref);
        }

        @Override
        public Info update(Info info, List<String> fieldpaths) {
            throw new UnsupportedOperationException();
        }

        @Override
        public ReaderAt readerAt(Digest digest) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Status status(String ref) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Writer writer(String ref, long total, Digest expected) {
            throw new UnsupportedOperationException();
        }
    }

    @BeforeEach
    void open() throws Exception {
        db = MetadataDb.open(dir, clock);
        gc = new GarbageCollector(db, clock);
        gc.register(new LeaseGcResource());
        gc.register(new ContentGcResource());
        gc.register(new IngestGcResource());
        for (String ns : List.of("default", "other")) db.update(tx -> { db.namespaces(tx).ensure(ns); return null; });
    }

    @AfterEach
    void close() throws Exception {
        db.close();
    }

    void sql(String sql, String... args) {
        db.update(tx -> Sql.update(tx, sql, args));
    }

    void blob(String ns, String digest, String... labels) {
        sql("INSERT INTO content (namespace, digest, size, created_at, updated_at) VALUES (?, ?, 1, 0, 0)", ns, digest);
        for (int i = 0; i < labels.length; i += 2) {
            sql("INSERT INTO content_labels VALUES (?, ?, ?, ?)", ns, digest, labels[i], labels[i + 1]);
        }
    }

    void lease(String ns, String id, Map<String, String> labels, String... resources) {
        sql("INSERT INTO leases (namespace, id, created_at) VALUES (?, ?, 0)", ns, id);
        labels.forEach((k, v) -> sql("INSERT INTO lease_labels VALUES (?, ?, ?, ?)", ns, id, k, v));
        for (int i = 0; i < resources.length; i += 2) {
            sql("INSERT INTO lease_resources VALUES (?, ?, ?, ?)", ns, id, resources[i], resources[i + 1]);
        }
    }

    void ingest(String ns, String ref, String backendRef, String expected, Instant expires) {
        db.update(tx -> {
            try (var ps = tx.prepareStatement("INSERT INTO ingests (namespace, ref, backend_ref, expected, expires_at, created_at)"
                    + " VALUES (?, ?, ?, ?, ?, 0)")) {
                ps.setString(1, ns);
                ps.setString(2, ref);
                ps.setString(3, backendRef);
                ps.setString(4, expected);
                if (expires == null) ps.setNull(5, java.sql.Types.INTEGER);
                else ps.setLong(5, Timestamps.toEpochNanos(expires));
                return ps.executeUpdate();
            }
        });
    }

    Set<String> content() {
        return set("SELECT namespace || '/' || digest FROM content");
    }

    Set<String> set(String sql) {
        return db.view(tx -> {
            Set<String> s = new TreeSet<>();
            for (String[] r : Sql.rows(tx, sql)) s.add(r[0]);
            return s;
        });
    }

    static String label(String ns, char c) {
        return ns + "/" + d(c);
    }

    @Test
    void contentRootsAndLabelReferences() {
        blob("default", d('a'), GcLabels.ROOT, "2024-01-01T00:00:00Z",
                "containerd.io/gc.ref.content.config", d('b'), "containerd.io/gc.ref.content.l.0", d('e'));
        blob("default", d('b'), "containerd.io/gc.ref.content", d('c'), "containerd.io/gc.ref.snapshot.overlayfs", "x");
        blob("default", d('c'));
        blob("default", d('d'), "containerd.io/gc.ref.content.m", d('a'));
        blob("other", d('e')); // labels reference within their own namespace only
        blob("other", d('f'), GcLabels.ROOT, "");

        GcStats stats = gc.collect();

        assertThat(content()).containsExactly(label("default", 'a'), label("default", 'b'), label("default", 'c'),
                label("other", 'f'));
        assertThat(stats.removed(ResourceType.CONTENT)).isEqualTo(2);
        // labels went with their blobs
        assertThat(set("SELECT digest FROM content_labels WHERE digest = '" + d('d') + "'")).isEmpty();
    }

    @Test
    void leasesKeepTheirResourcesUntilExpired() {
        lease("default", "plain", Map.of(), "content", d('a'));
        blob("default", d('a'), "containerd.io/gc.ref.content", d('b'));
        blob("default", d('b'));
        lease("default", "flat", Map.of(GcLabels.FLAT, ""), "content", d('c'));
        blob("default", d('c'), "containerd.io/gc.ref.content", d('e'));
        blob("default", d('e'));
        lease("default", "expired", Map.of(GcLabels.EXPIRE, "2023-12-31T23:59:59Z"), "content", d('f'));
        blob("default", d('f'));
        lease("default", "garbled", Map.of(GcLabels.EXPIRE, "soon"), "content", d('g'));
        blob("default", d('g'));
        lease("default", "later", Map.of(GcLabels.EXPIRE, "2024-01-01T01:00:00Z"), "content", d('h'),
                "snapshots/overlayfs", "some-key", "ingests", "not-there");
        blob("default", d('h'));

        gc.collect();
        assertThat(content()).containsExactly(label("default", 'a'), label("default", 'b'), label("default", 'c'),
                label("default", 'g'), label("default", 'h'));
        assertThat(set("SELECT id FROM leases")).containsExactly("flat", "garbled", "later", "plain");
        // resources of a removed lease go with it
        assertThat(set("SELECT lease_id FROM lease_resources")).doesNotContain("expired");

        clock.advance(Duration.ofHours(1).plusSeconds(1));
        GcStats stats = gc.collect();
        assertThat(stats.removed(ResourceType.LEASE)).isEqualTo(1);
        assertThat(stats.removed(ResourceType.CONTENT)).isEqualTo(1);
        assertThat(set("SELECT id FROM leases")).containsExactly("flat", "garbled", "plain");
    }

    @Test
    void ingestsLiveWhileUnexpiredOrLeased() {
        ingest("default", "fresh", "default/1/fresh", d('a'), T0.plusSeconds(60)); // unleased, within 24h
        blob("default", d('a'), "containerd.io/gc.ref.content", d('b')); // kept as the ingest's expected
        blob("default", d('b'));
        ingest("default", "stale", "default/2/stale", null, T0.minusSeconds(1));
        ingest("default", "leased", "default/3/leased", null, null);
        lease("default", "l", Map.of(GcLabels.FLAT, ""), "ingests", "leased");
        ingest("default", "orphan", "default/4/orphan", null, null); // no expiry and no lease
        ingest("default", "due", "default/5/due", null, T0); // expiring exactly now still counts

        GcStats stats = gc.collect();

        assertThat(set("SELECT ref FROM ingests")).containsExactly("due", "fresh", "leased");
        assertThat(stats.removed(ResourceType.INGEST)).isEqualTo(2);
        assertThat(content()).containsExactly(label("default", 'a'), label("default", 'b'));

        clock.advance(Duration.ofMinutes(2));
        gc.collect();
        assertThat(set("SELECT ref FROM ingests")).containsExactly("leased");
        assertThat(content()).isEmpty();
    }

    @Test
    void backendCleanupDeletesWhatNoNamespaceNames() {
        Backend backend = new Backend();
        gc.register(new ContentBackendCleanup(backend));
        blob("default", d('a'), GcLabels.ROOT, "");
        blob("other", d('b'), GcLabels.ROOT, "");
        blob("other", d('c')); // unreferenced: its row goes, then its bytes
        ingest("default", "pull", "default/1/pull", d('e'), T0.plusSeconds(60)); // adopted blob, no row anywhere
        ingest("default", "up", "default/2/up", null, T0.plusSeconds(60));
        backend.blobs.addAll(List.of(d('a'), d('b'), d('c'), d('e'), d('f')));
        backend.ingests.addAll(List.of("default/2/up", "default/9/gone"));

        GcStats stats = gc.collect();

        assertThat(stats.cleanups()).containsKey("content");
        assertThat(backend.blobs).containsExactly(d('a'), d('b'), d('e'));
        assertThat(backend.ingests).containsExactly("default/2/up");
    }

    @Test
    void aCrashedBackendCleanupIsFinishedByTheNextRun() {
        Backend backend = new Backend();
        gc.register(new ContentBackendCleanup(backend));
        gc.collect(); // the start-up run
        blob("default", d('a'));
        backend.blobs.add(d('a'));
        backend.failDeletes = 1;

        GcStats crashed = gc.collect();
        assertThat(crashed.removed(ResourceType.CONTENT)).isEqualTo(1);
        assertThat(crashed.cleanupFailures()).containsEntry("content", "daemon killed");
        assertThat(content()).isEmpty();
        assertThat(backend.blobs).containsExactly(d('a'));

        GcStats next = gc.collect();
        assertThat(next.removed()).isEmpty();
        assertThat(backend.blobs).isEmpty();
    }

    @Test
    void aDeletionReportedByTheContentStoreCleansTheBackend() {
        Backend backend = new Backend();
        gc.register(new ContentBackendCleanup(backend));
        blob("default", d('a'), GcLabels.ROOT, "");
        backend.blobs.add(d('a'));
        gc.collect();
        // Content.Delete: the row goes in the store's own transaction, then it reports the deletion
        sql("DELETE FROM content WHERE digest = ?", d('a'));
        gc.collect();
        assertThat(backend.blobs).containsExactly(d('a')); // nobody said anything
        gc.markAllDirty();
        gc.collect();
        assertThat(backend.blobs).isEmpty();
    }
}
