package io.jcontainerd.gc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jcontainerd.content.ContentStore;
import io.jcontainerd.content.Digest;
import io.jcontainerd.content.Writer;
import io.jcontainerd.content.local.LocalContentStore;
import io.jcontainerd.errdefs.ContainerdException;
import io.jcontainerd.metadata.MetadataContent;
import io.jcontainerd.metadata.MetadataDb;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Collection end to end: the namespaced content store over the local store on disk. */
class LocalContentGcTest {
    @TempDir
    Path dir;
    MutableClock clock = new MutableClock(Instant.parse("2024-01-01T00:00:00Z"));
    MetadataDb db;
    LocalContentStore local;
    MetadataContent content;
    GarbageCollector gc;

    @BeforeEach
    void open() throws Exception {
        local = LocalContentStore.open(dir.resolve("content"));
        db = MetadataDb.open(dir.resolve("meta"), clock);
        content = new MetadataContent(db, local, true);
        gc = new GarbageCollector(db, clock);
        gc.register(new LeaseGcResource());
        gc.register(new ContentGcResource());
        gc.register(new IngestGcResource());
        gc.register(new ContentBackendCleanup(local));
    }

    @AfterEach
    void close() throws Exception {
        db.close();
    }

    static Digest digest(String s) throws Exception {
        return Digest.sha256(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    }

    Digest put(ContentStore store, String ref, String data, Map<String, String> labels) throws Exception {
        byte[] b = data.getBytes(StandardCharsets.UTF_8);
        Digest d = digest(data);
        try (Writer w = store.writer(ref, b.length, d)) {
            if (w.status().offset() < b.length) w.write(ByteBuffer.wrap(b)); // not when adopted from the backend
            w.commit(b.length, d, labels);
        }
        return d;
    }

    boolean onDisk(Digest d) throws Exception {
        try {
            local.info(d);
            return true;
        } catch (ContainerdException e) {
            return false;
        }
    }

    @Test
    void unreferencedBlobsAndStaleIngestsLeaveTheDisk() throws Exception {
        ContentStore ns = content.view("default", null);
        Digest loose = put(ns, "loose", "loose blob", Map.of());
        Digest child = put(ns, "child", "child blob", Map.of());
        Digest root = put(ns, "root", "root blob", Map.of(GcLabels.ROOT, "2024-01-01T00:00:00Z", "containerd.io/gc.ref.content.c", child.toString()));
        try (Writer w = ns.writer("partial", 100, null)) {
            w.write(ByteBuffer.wrap("half".getBytes(StandardCharsets.UTF_8)));
        }

        GcStats stats = gc.collect();

        assertThat(stats.removed(ResourceType.CONTENT)).isEqualTo(1);
        assertThat(onDisk(loose)).isFalse();
        assertThat(onDisk(root)).isTrue();
        assertThat(onDisk(child)).isTrue();
        assertThat(local.listStatuses(List.of())).hasSize(1); // the unleased ingest lives 24h
        assertThat(ns.status("partial").offset()).isEqualTo(4);

        clock.advance(Duration.ofHours(24).plusSeconds(1));
        stats = gc.collect();
        assertThat(stats.removed(ResourceType.INGEST)).isEqualTo(1);
        assertThat(local.listStatuses(List.of())).isEmpty();
        assertThatThrownBy(() -> ns.status("partial")).isInstanceOf(ContainerdException.class);
    }

    @Test
    void aBlobSharedByNamespacesStaysUntilTheLastGoes() throws Exception {
        Digest d = put(content.view("a", null), "x", "shared", Map.of(GcLabels.ROOT, "2024-01-01T00:00:00Z"));
        put(content.view("b", null), "x", "shared", Map.of(GcLabels.ROOT, "2024-01-01T00:00:00Z"));
        content.view("a", null).delete(d);
        gc.markAllDirty(); // what the store's GcTrigger.dirty() does
        gc.collect();
        assertThat(onDisk(d)).isTrue();
        content.view("b", null).delete(d);
        gc.markAllDirty();
        gc.collect();
        assertThat(onDisk(d)).isFalse();
    }

    @Test
    void aLeaseKeepsWhatItHoldsUntilDeleted() throws Exception {
        db.update(tx -> {
            db.namespaces(tx).ensure("default");
            return Sql.update(tx, "INSERT INTO leases (namespace, id, created_at) VALUES ('default', 'pull', 0)");
        });
        Digest d = put(content.view("default", "pull"), "layer", "layer bytes", Map.of());
        gc.collect();
        assertThat(onDisk(d)).isTrue();
        db.update(tx -> Sql.update(tx, "DELETE FROM leases WHERE id = 'pull'"));
        gc.collect();
        assertThat(onDisk(d)).isFalse();
    }
}
