package io.jcontainerd.metadata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jcontainerd.content.ContentStore;
import io.jcontainerd.content.Digest;
import io.jcontainerd.content.Info;
import io.jcontainerd.content.ReaderAt;
import io.jcontainerd.content.Writer;
import io.jcontainerd.content.local.LocalContentStore;
import io.jcontainerd.errdefs.ContainerdException;
import io.jcontainerd.errdefs.ErrorKind;
import io.jcontainerd.leases.LeaseManager;
import io.jcontainerd.leases.Resource;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The namespaced content layer over a real local content store and a real metadata database. */
class MetadataContentStoreTest {
    @TempDir
    Path dir;
    MetadataDb db;
    LocalContentStore backend;

    @BeforeEach
    void open() throws Exception {
        db = MetadataDb.open(dir.resolve("meta"), Clock.systemUTC());
        backend = LocalContentStore.open(dir.resolve("content"));
    }

    @AfterEach
    void close() throws Exception {
        db.close();
    }

    MetadataContent content(boolean shared) {
        return new MetadataContent(db, backend, shared);
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static Digest digestOf(byte[] data) throws Exception {
        return Digest.sha256(MessageDigest.getInstance("SHA-256").digest(data));
    }

    static Digest ingest(ContentStore cs, String ref, byte[] data, Map<String, String> labels) throws Exception {
        try (Writer w = cs.writer(ref, data.length, null)) {
            w.write(ByteBuffer.wrap(data));
            w.commit(data.length, null, labels);
            return w.digest();
        }
    }

    static byte[] readAll(ContentStore cs, Digest d) throws Exception {
        try (ReaderAt ra = cs.readerAt(d)) {
            ByteBuffer buf = ByteBuffer.allocate((int) ra.size());
            long off = 0;
            while (buf.hasRemaining()) {
                int n = ra.readAt(buf, off);
                if (n < 0) break;
                off += n;
            }
            return buf.array();
        }
    }

    static void assertKind(ThrowingCallable call, ErrorKind kind) {
        assertThatThrownBy(call).isInstanceOfSatisfying(ContainerdException.class, e -> assertThat(e.kind()).isEqualTo(kind));
    }

    static List<Info> walk(ContentStore cs, String... filters) throws Exception {
        List<Info> out = new ArrayList<>();
        cs.walk(List.of(filters), out::add);
        return out;
    }

    @Test
    void committedBlobIsVisibleOnlyInItsNamespace() throws Exception {
        MetadataContent mc = content(true);
        var a = mc.view("a", null);
        var b = mc.view("b", null);
        Digest d = ingest(a, "r1", bytes("hello"), Map.of("k", "v"));
        assertThat(d).isEqualTo(digestOf(bytes("hello")));

        Info info = a.info(d);
        assertThat(info.size()).isEqualTo(5);
        assertThat(info.labels()).containsExactly(Map.entry("k", "v"));
        assertThat(readAll(a, d)).isEqualTo(bytes("hello"));
        assertThat(walk(a)).extracting(Info::digest).containsExactly(d);

        assertKind(() -> b.info(d), ErrorKind.NOT_FOUND);
        assertKind(() -> b.readerAt(d), ErrorKind.NOT_FOUND);
        assertThat(walk(b)).isEmpty();
        // the ingest is gone once committed; the namespace was created by the commit
        assertKind(() -> a.status("r1"), ErrorKind.NOT_FOUND);
        assertThat(db.<Boolean>view(tx -> db.namespaces(tx).exists("a"))).isTrue();
    }

    @Test
    void sharedPolicyLetsANamespaceAdoptAnExistingBlobWithoutUploading() throws Exception {
        MetadataContent mc = content(true);
        Digest d = ingest(mc.view("a", null), "r", bytes("shared bytes"), Map.of());
        var b = mc.view("b", null);
        try (Writer w = b.writer("rb", 0, d)) {
            // the ingest reports the blob as fully written before any byte is sent
            assertThat(w.status().offset()).isEqualTo(12);
            assertThat(w.status().total()).isEqualTo(12);
            assertThat(w.digest()).isEqualTo(d);
            // an adopted ingest has no backend data: it is no active transfer
            assertThat(b.listStatuses(List.of())).isEmpty();
            w.commit(12, d, Map.of("owner", "b"));
        }
        assertThat(b.info(d).labels()).containsEntry("owner", "b");
        assertThat(readAll(b, d)).isEqualTo(bytes("shared bytes"));
        // once the namespace has it, opening a writer for it again is AlreadyExists
        assertKind(() -> b.writer("again", 0, d), ErrorKind.ALREADY_EXISTS);
    }

    @Test
    void sharedAdoptionChecksTheCommittedDigestAndSize() throws Exception {
        MetadataContent mc = content(true);
        Digest d = ingest(mc.view("a", null), "r", bytes("abc"), Map.of());
        var b = mc.view("b", null);
        try (Writer w = b.writer("rb", 0, d)) {
            assertKind(() -> w.commit(4, d, Map.of()), ErrorKind.FAILED_PRECONDITION);
            assertKind(() -> w.commit(3, digestOf(bytes("other")), Map.of()), ErrorKind.FAILED_PRECONDITION);
        }
        assertKind(() -> b.info(d), ErrorKind.NOT_FOUND);
    }

    @Test
    void isolatedPolicyMakesTheNamespaceUploadAndVerifyTheBytes() throws Exception {
        MetadataContent mc = content(false);
        Digest d = ingest(mc.view("a", null), "r", bytes("private"), Map.of());
        var b = mc.view("b", null);
        try (Writer w = b.writer("rb", 0, d)) {
            assertThat(w.status().offset()).isZero();
            w.write(ByteBuffer.wrap(bytes("privatX")));
            assertKind(() -> w.commit(7, d, Map.of()), ErrorKind.FAILED_PRECONDITION);
        }
        // the failed commit keeps the ingest for a retry
        assertThat(b.status("rb").offset()).isEqualTo(7);
        assertKind(() -> b.info(d), ErrorKind.NOT_FOUND);
        try (Writer w = b.writer("rb", 0, d)) {
            w.truncate(0);
            w.write(ByteBuffer.wrap(bytes("private")));
            w.commit(7, d, Map.of());
        }
        assertThat(b.info(d).size()).isEqualTo(7);
    }

    @Test
    void deleteDropsOnlyTheNamespaceRecordAndLeavesTheBytesForGc() throws Exception {
        List<String> dirty = new ArrayList<>();
        db.setGcTrigger(new GcTrigger() {
            @Override
            public void collect(boolean wait) {}

            @Override
            public void dirty() {
                dirty.add("dirty");
            }
        });
        MetadataContent mc = content(true);
        var a = mc.view("a", null);
        var b = mc.view("b", null);
        Digest d = ingest(a, "r", bytes("both"), Map.of());
        ingest(b, "r", bytes("both"), Map.of());
        a.delete(d);
        assertKind(() -> a.info(d), ErrorKind.NOT_FOUND);
        assertKind(() -> a.delete(d), ErrorKind.NOT_FOUND);
        assertThat(b.info(d).size()).isEqualTo(4);
        b.delete(d);
        assertThat(backend.info(d).size()).isEqualTo(4);
        assertThat(dirty).hasSize(2);
    }

    @Test
    void updateSetsAndRemovesLabelsByFieldPath() throws Exception {
        var a = content(true).view("a", null);
        Digest d = ingest(a, "r", bytes("x"), Map.of("keep", "1", "drop", "2"));
        Info updated = a.update(new Info(d, 0, null, null, Map.of("new", "3")), List.of("labels.new", "labels.drop"));
        assertThat(updated.labels()).containsOnly(Map.entry("keep", "1"), Map.entry("new", "3"));
        assertThat(a.info(d).labels()).containsOnly(Map.entry("keep", "1"), Map.entry("new", "3"));
        assertThat(updated.updatedAt()).isAfterOrEqualTo(updated.createdAt());

        assertThat(a.update(new Info(d, 0, null, null, Map.of("only", "x")), List.of("labels")).labels())
                .containsOnly(Map.entry("only", "x"));
        assertThat(a.update(new Info(d, 0, null, null, Map.of()), List.of()).labels()).isEmpty();

        assertKind(() -> a.update(new Info(d, 0, null, null, Map.of()), List.of("size")), ErrorKind.INVALID_ARGUMENT);
        assertKind(() -> a.update(new Info(d, 0, null, null, Map.of("k", "v".repeat(5000))), List.of("labels.k")),
                ErrorKind.INVALID_ARGUMENT);
        assertKind(() -> a.update(new Info(digestOf(bytes("nope")), 0, null, null, Map.of()), List.of()), ErrorKind.NOT_FOUND);
    }

    @Test
    void walkFiltersOnDigestAndLabels() throws Exception {
        var a = content(true).view("a", null);
        Digest d1 = ingest(a, "r1", bytes("one"), Map.of("kind", "config"));
        Digest d2 = ingest(a, "r2", bytes("two"), Map.of("kind", "layer"));
        assertThat(walk(a, "labels.kind==layer")).extracting(Info::digest).containsExactly(d2);
        assertThat(walk(a, "digest==" + d1)).extracting(Info::digest).containsExactly(d1);
        assertThat(walk(a, "labels.kind==config", "labels.kind==layer")).hasSize(2);
        assertKind(() -> walk(a, "labels.kind=="), ErrorKind.INVALID_ARGUMENT);
    }

    @Test
    void oversizedCommitLabelIsInvalidArgumentAndKeepsTheIngest() throws Exception {
        var a = content(true).view("a", null);
        try (Writer w = a.writer("r", 0, null)) {
            w.write(ByteBuffer.wrap(bytes("data")));
            assertKind(() -> w.commit(4, null, Map.of("k", "v".repeat(5000))), ErrorKind.INVALID_ARGUMENT);
        }
        assertThat(a.status("r").offset()).isEqualTo(4);
    }

    @Test
    void ingestsAreNamespacedAndLockedPerRef() throws Exception {
        MetadataContent mc = content(true);
        var a = mc.view("a", null);
        var b = mc.view("b", null);
        try (Writer wa = a.writer("same", 0, null); Writer wb = b.writer("same", 0, null)) {
            wa.write(ByteBuffer.wrap(bytes("aaaa")));
            wb.write(ByteBuffer.wrap(bytes("bb")));
            assertKind(() -> a.writer("same", 0, null), ErrorKind.UNAVAILABLE);
            assertThat(a.status("same").offset()).isEqualTo(4);
            assertThat(b.status("same").offset()).isEqualTo(2);
            assertThat(a.listStatuses(List.of())).extracting(s -> s.ref()).containsExactly("same");
        }
        String brefA = db.view(tx -> backendRef(tx, "a", "same"));
        String brefB = db.view(tx -> backendRef(tx, "b", "same"));
        assertThat(brefA).startsWith("a/").endsWith("/same").isNotEqualTo(brefB);
        assertThat(a.listStatuses(List.of("ref==other"))).isEmpty();
    }

    static String backendRef(java.sql.Connection tx, String ns, String ref) throws java.sql.SQLException {
        try (var ps = tx.prepareStatement("SELECT backend_ref FROM ingests WHERE namespace = ? AND ref = ?")) {
            ps.setString(1, ns);
            ps.setString(2, ref);
            try (var rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    @Test
    void aClosedIngestResumesFromItsOffset() throws Exception {
        var a = content(true).view("a", null);
        try (Writer w = a.writer("resume", 10, null)) {
            w.write(ByteBuffer.wrap(bytes("01234")));
        }
        try (Writer w = a.writer("resume", 10, null)) {
            assertThat(w.status().offset()).isEqualTo(5);
            w.write(ByteBuffer.wrap(bytes("56789")));
            w.commit(10, digestOf(bytes("0123456789")), Map.of());
        }
        assertThat(readAll(a, digestOf(bytes("0123456789")))).isEqualTo(bytes("0123456789"));
    }

    @Test
    void abortRemovesTheIngestAndItsData() throws Exception {
        var a = content(true).view("a", null);
        try (Writer w = a.writer("gone", 0, null)) {
            w.write(ByteBuffer.wrap(bytes("partial")));
        }
        String bref = db.view(tx -> backendRef(tx, "a", "gone"));
        a.abort("gone");
        assertKind(() -> a.status("gone"), ErrorKind.NOT_FOUND);
        assertKind(() -> backend.status(bref), ErrorKind.NOT_FOUND);
        assertKind(() -> a.abort("gone"), ErrorKind.NOT_FOUND);
    }

    @Test
    void writesUnderALeaseAttachIngestThenBlobToIt() throws Exception {
        LeaseManager leases = new LeaseManager(db);
        leases.create("a", "L", Map.of());
        var a = content(true).view("a", "L");
        byte[] data = bytes("leased");
        try (Writer w = a.writer("lr", 0, null)) {
            assertThat(leases.listResources("a", "L")).containsExactly(new Resource("lr", "ingests"));
            w.write(ByteBuffer.wrap(data));
            w.commit(0, null, Map.of());
        }
        Digest d = digestOf(data);
        assertThat(leases.listResources("a", "L")).containsExactly(new Resource(d.toString(), "content"));
        // asking to write a blob the namespace has still puts it on the lease
        leases.create("a", "L2", Map.of());
        assertKind(() -> content(true).view("a", "L2").writer("x", 0, d), ErrorKind.ALREADY_EXISTS);
        assertThat(leases.listResources("a", "L2")).containsExactly(new Resource(d.toString(), "content"));
        // an unknown lease is NotFound and leaves nothing behind
        assertKind(() -> content(true).view("a", "nope").writer("y", 0, null), ErrorKind.NOT_FOUND);
        assertKind(() -> a.status("y"), ErrorKind.NOT_FOUND);
        // deleting under the lease releases the blob from it
        a.delete(d);
        assertThat(leases.listResources("a", "L")).isEmpty();
    }

    @Test
    void unleasedIngestsGetAnExpiryLeasedOnesDoNot() throws Exception {
        new LeaseManager(db).create("a", "L", Map.of());
        MetadataContent mc = content(true);
        mc.view("a", null).writer("free", 0, null).close();
        mc.view("a", "L").writer("held", 0, null).close();
        assertThat(db.<Long>view(tx -> expiresAt(tx, "free"))).isNotNull();
        assertThat(db.<Long>view(tx -> expiresAt(tx, "held"))).isNull();
    }

    static Long expiresAt(java.sql.Connection tx, String ref) throws java.sql.SQLException {
        try (var ps = tx.prepareStatement("SELECT expires_at FROM ingests WHERE ref = ?")) {
            ps.setString(1, ref);
            try (var rs = ps.executeQuery()) {
                rs.next();
                long v = rs.getLong(1);
                return rs.wasNull() ? null : v;
            }
        }
    }

    @Test
    void namespaceWithBlobsOrLeasesCannotBeDeletedButIngestsGoWithIt() throws Exception {
        MetadataContent mc = content(true);
        Digest d = ingest(mc.view("full", null), "r", bytes("blob"), Map.of());
        assertThatThrownBy(() -> db.update(tx -> {
            db.namespaces(tx).delete("full", db.occupancy());
            return null;
        })).isInstanceOfSatisfying(ContainerdException.class, e -> {
            assertThat(e.kind()).isEqualTo(ErrorKind.FAILED_PRECONDITION);
            assertThat(e.getMessage()).isEqualTo("namespace \"full\" must be empty, but it still has blobs");
        });
        mc.view("full", null).delete(d);

        LeaseManager leases = new LeaseManager(db);
        leases.create("full", "L", Map.of("a", "b"));
        mc.view("full", "L").writer("open", 0, null).close();
        assertThatThrownBy(() -> db.update(tx -> {
            db.namespaces(tx).delete("full", db.occupancy());
            return null;
        })).isInstanceOfSatisfying(ContainerdException.class, e -> {
            assertThat(e.kind()).isEqualTo(ErrorKind.FAILED_PRECONDITION);
            assertThat(e.getMessage()).isEqualTo("namespace \"full\" must be empty, but it still has leases");
        });
        leases.delete("full", "L", false);
        mc.view("full", null).writer("open-unleased", 0, null).close();
        db.update(tx -> {
            db.namespaces(tx).delete("full", db.occupancy());
            return null;
        });
        assertThat(db.<Boolean>view(tx -> db.namespaces(tx).exists("full"))).isFalse();
        assertThat(db.<String>view(tx -> backendRef(tx, "full", "open-unleased"))).isNull();
    }

    @Test
    void contentSurvivesReopen() throws Exception {
        assertThat(db.schemaVersion()).isGreaterThanOrEqualTo(2);
        Digest d = ingest(content(true).view("a", null), "r", bytes("persist"), Map.of("l", "1"));
        db.close();
        db = MetadataDb.open(dir.resolve("meta"), Clock.systemUTC());
        assertThat(new MetadataContent(db, backend, true).view("a", null).info(d).labels()).containsEntry("l", "1");
    }
}
