package io.jcontainerd.metadata;

import io.jcontainerd.content.ContentStore;
import io.jcontainerd.content.Digest;
import io.jcontainerd.content.Info;
import io.jcontainerd.content.ReaderAt;
import io.jcontainerd.content.Status;
import io.jcontainerd.content.Writer;
import io.jcontainerd.errdefs.ContainerdException;
import io.jcontainerd.errdefs.Errdefs;
import io.jcontainerd.errdefs.ErrorKind;
import io.jcontainerd.filters.Adaptors;
import io.jcontainerd.filters.Filter;
import io.jcontainerd.namespaces.Namespaces;
import io.jcontainerd.protobuf.Timestamps;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One namespace's view of the content store (containerd's metadata contentStore bound to a request's
 * namespace and lease). Blobs are visible only once recorded for the namespace; ingests are keyed by
 * the client's ref and map to backend refs unique to this namespace.
 */
public final class MetadataContentStore implements ContentStore {
    /** An ingest no lease holds may be dropped by GC after this long (containerd's fixed 24h). */
    static final Duration INGEST_EXPIRY = Duration.ofHours(24);

    private final MetadataDb db;
    private final ContentStore backend;
    private final boolean shared;
    private final String ns;
    private final String lease;

    MetadataContentStore(MetadataDb db, ContentStore backend, boolean shared, String namespace, String lease) {
        this.db = db;
        this.backend = backend;
        this.shared = shared;
        this.ns = namespace;
        this.lease = lease;
    }

    public String namespace() {
        return ns;
    }

    /** The lease new resources are attached to, or null. */
    public String lease() {
        return lease;
    }

    @Override
    public Info info(Digest digest) throws IOException {
        return db.read(tx -> {
            Info info = readInfo(tx, digest);
            if (info == null) throw Errdefs.notFound("content digest %s: not found", digest);
            return info;
        });
    }

    @Override
    public Info update(Info info, List<String> fieldpaths) throws IOException {
        return db.update(tx -> {
            Info current = readInfo(tx, info.digest());
            if (current == null) throw Errdefs.notFound("content digest %s: not found", info.digest());
            Map<String, String> labels = new LinkedHashMap<>(current.labels());
            if (fieldpaths == null || fieldpaths.isEmpty()) {
                labels = new LinkedHashMap<>(info.labels());
            } else {
                for (String path : fieldpaths) {
                    if (path.startsWith("labels.")) {
                        String key = path.substring("labels.".length());
                        labels.put(key, info.labels().getOrDefault(key, ""));
                    } else if (path.equals("labels")) {
                        labels = new LinkedHashMap<>(info.labels());
                    } else {
                        throw Errdefs.invalidArgument("cannot update \"%s\" field on content info \"%s\": invalid argument", path, info.digest());
                    }
                }
            }
            validateLabels(labels);
            // an empty value means "no such label", as containerd stores them
            labels.values().removeIf(String::isEmpty);
            Instant now = db.clock().instant();
            writeLabels(tx, info.digest(), labels);
            try (PreparedStatement ps = tx.prepareStatement("UPDATE content SET updated_at = ? WHERE namespace = ? AND digest = ?")) {
                ps.setLong(1, Timestamps.toEpochNanos(now));
                ps.setString(2, ns);
                ps.setString(3, info.digest().toString());
                ps.executeUpdate();
            }
            return new Info(info.digest(), current.size(), current.createdAt(), now, labels);
        });
    }

    @Override
    public void walk(List<String> filters, WalkFn fn) throws IOException {
        Filter filter = Filter.parseAll(filters);
        // read everything first so the callback runs outside the transaction, as containerd does
        List<Info> infos = db.read(tx -> {
            List<Info> out = new ArrayList<>();
            try (PreparedStatement ps = tx.prepareStatement(
                    "SELECT digest, size, created_at, updated_at FROM content WHERE namespace = ? ORDER BY digest")) {
                ps.setString(1, ns);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        Digest d = Digest.parse(rs.getString(1));
                        Info info = new Info(d, rs.getLong(2), Timestamps.fromEpochNanos(rs.getLong(3)),
                                Timestamps.fromEpochNanos(rs.getLong(4)), readLabels(tx, d));
                        if (filter.match(adapt(info))) out.add(info);
                    }
                }
            }
            return out;
        });
        for (Info info : infos) fn.accept(info);
    }

    private static io.jcontainerd.filters.Adaptor adapt(Info info) {
        // containerd's content.AdaptInfo: digest and labels (size is not filterable)
        return Adaptors.object(Map.of("digest", info.digest().toString(), "labels", Adaptors.map(info.labels())));
    }

    /** Removes this namespace's record only; the bytes stay in the backend until GC finds them unreferenced. */
    @Override
    public void delete(Digest digest) throws IOException {
        db.update(tx -> {
            try (PreparedStatement ps = tx.prepareStatement("DELETE FROM content WHERE namespace = ? AND digest = ?")) {
                ps.setString(1, ns);
                ps.setString(2, digest.toString());
                if (ps.executeUpdate() == 0) throw Errdefs.notFound("content digest %s: not found", digest);
            }
            LeaseResources.detach(tx, ns, lease, LeaseResources.CONTENT, digest.toString());
            return null;
        });
        db.gcTrigger().dirty();
    }

    @Override
    public ReaderAt readerAt(Digest digest) throws IOException {
        db.read(tx -> {
            if (!blobExists(tx, digest)) throw Errdefs.notFound("content digest %s: not found", digest);
            return null;
        });
        return backend.readerAt(digest);
    }

    @Override
    public Status status(String ref) throws IOException {
        Ingest in = db.view(tx -> ingest(tx, ref));
        if (in == null) throw Errdefs.notFound("reference %s: not found", ref);
        return withRef(backend.status(in.backendRef()), ref);
    }

    @Override
    public List<Status> listStatuses(List<String> filters) throws IOException {
        Filter filter = Filter.parseAll(filters);
        List<String[]> refs = db.view(tx -> {
            List<String[]> out = new ArrayList<>();
            try (PreparedStatement ps = tx.prepareStatement("SELECT ref, backend_ref FROM ingests WHERE namespace = ? ORDER BY ref")) {
                ps.setString(1, ns);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) out.add(new String[] {rs.getString(1), rs.getString(2)});
                }
            }
            return out;
        });
        List<Status> out = new ArrayList<>();
        for (String[] r : refs) {
            Status st;
            try {
                st = withRef(backend.status(r[1]), r[0]);
            } catch (ContainerdException e) {
                // an adopted blob under the shared policy has no backend ingest: not an active transfer
                if (e.kind() == ErrorKind.NOT_FOUND) continue;
                throw e;
            }
            if (filter.match(Adaptors.object(Map.of("ref", st.ref())))) out.add(st);
        }
        return out;
    }

    @Override
    public void abort(String ref) throws IOException {
        db.updateIo(tx -> {
            Ingest in = ingest(tx, ref);
            if (in == null) throw Errdefs.notFound("reference %s: not found", ref);
            deleteIngest(tx, ref);
            LeaseResources.detach(tx, ns, lease, LeaseResources.INGESTS, ref);
            // an adopted (shared) ingest has no backend data; otherwise drop it with the record, or neither
            if (in.expected() == null) backend.abort(in.backendRef());
            return null;
        });
    }

    @Override
    public Writer writer(String ref, long total, Digest expected) throws IOException {
        if (ref == null || ref.isEmpty()) throw Errdefs.invalidArgument("ref must not be empty: invalid argument");
        record Opened(boolean exists, String backendRef, Writer backendWriter, long size) {}
        Opened o = db.updateIo(tx -> {
            long size = total;
            boolean adopt = false;
            if (expected != null) {
                if (blobExists(tx, expected)) {
                    // hold the blob for the caller's lease before telling it the blob is there
                    LeaseResources.attach(tx, ns, lease, LeaseResources.CONTENT, expected.toString());
                    return new Opened(true, null, null, 0);
                }
                if (shared) {
                    Info existing = backendInfo(expected);
                    // a size mismatch is left for the commit to report
                    if (existing != null && (total == 0 || total == existing.size())) {
                        adopt = true;
                        size = existing.size();
                    }
                }
            }
            db.namespaces(tx).ensure(ns);
            Ingest in = ingest(tx, ref);
            String bref = in != null ? in.backendRef() : createIngest(tx, ref);
            boolean leased = LeaseResources.attach(tx, ns, lease, LeaseResources.INGESTS, ref);
            if (!leased) setExpiry(tx, ref, db.clock().instant().plus(INGEST_EXPIRY));
            if (adopt) {
                setExpected(tx, ref, expected, size);
                return new Opened(false, bref, null, size);
            }
            // the backend is not told the expected digest: the blob must be committed in this
            // namespace before it counts as present here
            return new Opened(false, bref, backend.writer(bref, total, null), size);
        });
        if (o.exists()) throw Errdefs.alreadyExists("content %s: already exists", expected);
        return new NamespacedWriter(o.backendRef(), ref, o.backendWriter(), expected, o.size(), db.clock().instant());
    }

    /** A writer bound to this namespace's ingest; without a backend writer it stands for an adopted blob. */
    private final class NamespacedWriter implements Writer {
        private final String backendRef;
        private final String ref;
        private final Digest adopted;
        private final long adoptedSize;
        private final Instant started;
        private Writer w;

        NamespacedWriter(String backendRef, String ref, Writer w, Digest adopted, long adoptedSize, Instant started) {
            this.backendRef = backendRef;
            this.ref = ref;
            this.w = w;
            this.adopted = adopted;
            this.adoptedSize = adoptedSize;
            this.started = started;
        }

        @Override
        public Status status() throws IOException {
            if (w != null) return withRef(w.status(), ref);
            return new Status(ref, adoptedSize, adoptedSize, adopted, started, started);
        }

        @Override
        public Digest digest() {
            return w != null ? w.digest() : adopted;
        }

        @Override
        public void write(ByteBuffer src) throws IOException {
            if (w == null) {
                if (!src.hasRemaining()) return;
                // writing more to an adopted blob: make a real ingest holding its bytes first
                createAndCopy(adoptedSize);
            }
            w.write(src);
        }

        @Override
        public void truncate(long size) throws IOException {
            if (w != null) {
                w.truncate(size);
            } else {
                createAndCopy(size);
            }
        }

        private void createAndCopy(long size) throws IOException {
            Writer fresh = backend.writer(backendRef, size, null);
            try {
                if (size > 0) {
                    try (ReaderAt ra = backend.readerAt(adopted)) {
                        ByteBuffer buf = ByteBuffer.allocate((int) Math.min(size, 1 << 20));
                        long off = 0;
                        while (off < size) {
                            buf.clear().limit((int) Math.min(buf.capacity(), size - off));
                            int n = ra.readAt(buf, off);
                            if (n < 0) throw new IOException("blob " + adopted + " ended at " + off + " of " + size);
                            buf.flip();
                            fresh.write(buf);
                            off += n;
                        }
                    }
                }
            } catch (IOException | RuntimeException e) {
                fresh.close();
                throw e;
            }
            w = fresh;
        }

        @Override
        public void commit(long size, Digest expected, Map<String, String> labels) throws IOException {
            Map<String, String> base = labels == null ? Map.of() : labels;
            ContainerdException[] inner = new ContainerdException[1];
            db.updateIo(tx -> {
                try {
                    validateLabels(base);
                } catch (ContainerdException e) {
                    close();
                    throw e;
                }
                long committedSize;
                Digest actual;
                if (w == null) {
                    if (size != 0 && size != adoptedSize) {
                        throw Errdefs.failedPrecondition("\"%s\" failed size validation: %d != %d: failed precondition", ref, adoptedSize, size);
                    }
                    if (expected != null && !expected.equals(adopted)) {
                        throw Errdefs.failedPrecondition("\"%s\" unexpected digest: failed precondition", ref);
                    }
                    committedSize = adoptedSize;
                    actual = adopted;
                } else {
                    Status st = w.status();
                    if (size != 0 && size != st.offset()) {
                        close();
                        throw Errdefs.failedPrecondition("\"%s\" failed size validation: %d != %d: failed precondition", ref, st.offset(), size);
                    }
                    committedSize = st.offset();
                    try {
                        w.commit(committedSize, expected, Map.of());
                    } catch (ContainerdException e) {
                        // another namespace (or an earlier try) already stored these bytes: record them here
                        if (e.kind() != ErrorKind.ALREADY_EXISTS) throw e;
                    }
                    actual = w.digest();
                }
                db.namespaces(tx).ensure(ns);
                if (blobExists(tx, actual)) {
                    inner[0] = Errdefs.alreadyExists("content %s: already exists", actual);
                } else {
                    long now = Timestamps.toEpochNanos(db.clock().instant());
                    try (PreparedStatement ps = tx.prepareStatement(
                            "INSERT INTO content (namespace, digest, size, created_at, updated_at) VALUES (?, ?, ?, ?, ?)")) {
                        ps.setString(1, ns);
                        ps.setString(2, actual.toString());
                        ps.setLong(3, committedSize);
                        ps.setLong(4, now);
                        ps.setLong(5, now);
                        ps.executeUpdate();
                    }
                    Map<String, String> kept = new LinkedHashMap<>(base);
                    kept.values().removeIf(String::isEmpty);
                    writeLabels(tx, actual, kept);
                }
                deleteIngest(tx, ref);
                LeaseResources.detach(tx, ns, lease, LeaseResources.INGESTS, ref);
                LeaseResources.attach(tx, ns, lease, LeaseResources.CONTENT, actual.toString());
                return null;
            });
            if (inner[0] != null) throw inner[0];
        }

        @Override
        public void close() throws IOException {
            if (w != null) w.close();
        }
    }

    // ---- rows

    private record Ingest(String backendRef, Digest expected) {}

    private Ingest ingest(Connection tx, String ref) throws SQLException {
        try (PreparedStatement ps = tx.prepareStatement("SELECT backend_ref, expected FROM ingests WHERE namespace = ? AND ref = ?")) {
            ps.setString(1, ns);
            ps.setString(2, ref);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) return null;
                String expected = rs.getString(2);
                return new Ingest(rs.getString(1), expected == null ? null : Digest.parse(expected));
            }
        }
    }

    /** Inserts the ingest row and names its backend ref after the row id, so a ref is never reused. */
    private String createIngest(Connection tx, String ref) throws SQLException {
        long id;
        try (PreparedStatement ps = tx.prepareStatement(
                "INSERT INTO ingests (namespace, ref, created_at) VALUES (?, ?, ?) RETURNING id")) {
            ps.setString(1, ns);
            ps.setString(2, ref);
            ps.setLong(3, Timestamps.toEpochNanos(db.clock().instant()));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                id = rs.getLong(1);
            }
        }
        String bref = ns + "/" + id + "/" + ref;
        try (PreparedStatement ps = tx.prepareStatement("UPDATE ingests SET backend_ref = ? WHERE id = ?")) {
            ps.setString(1, bref);
            ps.setLong(2, id);
            ps.executeUpdate();
        }
        return bref;
    }

    private void setExpiry(Connection tx, String ref, Instant at) throws SQLException {
        try (PreparedStatement ps = tx.prepareStatement("UPDATE ingests SET expires_at = ? WHERE namespace = ? AND ref = ?")) {
            ps.setLong(1, Timestamps.toEpochNanos(at));
            ps.setString(2, ns);
            ps.setString(3, ref);
            ps.executeUpdate();
        }
    }

    private void setExpected(Connection tx, String ref, Digest expected, long size) throws SQLException {
        try (PreparedStatement ps = tx.prepareStatement(
                "UPDATE ingests SET expected = ?, expected_size = ? WHERE namespace = ? AND ref = ?")) {
            ps.setString(1, expected.toString());
            ps.setLong(2, size);
            ps.setString(3, ns);
            ps.setString(4, ref);
            ps.executeUpdate();
        }
    }

    private void deleteIngest(Connection tx, String ref) throws SQLException {
        try (PreparedStatement ps = tx.prepareStatement("DELETE FROM ingests WHERE namespace = ? AND ref = ?")) {
            ps.setString(1, ns);
            ps.setString(2, ref);
            ps.executeUpdate();
        }
    }

    private boolean blobExists(Connection tx, Digest digest) throws SQLException {
        try (PreparedStatement ps = tx.prepareStatement("SELECT 1 FROM content WHERE namespace = ? AND digest = ?")) {
            ps.setString(1, ns);
            ps.setString(2, digest.toString());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    private Info readInfo(Connection tx, Digest digest) throws SQLException {
        try (PreparedStatement ps = tx.prepareStatement(
                "SELECT size, created_at, updated_at FROM content WHERE namespace = ? AND digest = ?")) {
            ps.setString(1, ns);
            ps.setString(2, digest.toString());
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) return null;
                return new Info(digest, rs.getLong(1), Timestamps.fromEpochNanos(rs.getLong(2)),
                        Timestamps.fromEpochNanos(rs.getLong(3)), readLabels(tx, digest));
            }
        }
    }

    private Map<String, String> readLabels(Connection tx, Digest digest) throws SQLException {
        return LabelTable.CONTENT_LABELS.read(tx, ns, digest.toString());
    }

    /** Replaces the blob's labels with {@code labels}. */
    private void writeLabels(Connection tx, Digest digest, Map<String, String> labels) throws SQLException {
        LabelTable.CONTENT_LABELS.write(tx, ns, digest.toString(), labels);
    }

    private static void validateLabels(Map<String, String> labels) {
        try {
            Namespaces.validateLabels(labels);
        } catch (ContainerdException e) {
            throw new ContainerdException(e.kind(), "info.Labels: " + e.getMessage());
        }
    }

    private Info backendInfo(Digest digest) throws IOException {
        try {
            return backend.info(digest);
        } catch (ContainerdException e) {
            if (e.kind() == ErrorKind.NOT_FOUND) return null;
            throw e;
        }
    }

    private static Status withRef(Status s, String ref) {
        return new Status(ref, s.offset(), s.total(), s.expected(), s.startedAt(), s.updatedAt());
    }
}
