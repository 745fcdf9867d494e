package io.jcontainerd.metadata;

import io.jcontainerd.errdefs.Errdefs;
import io.jcontainerd.sys.SqliteConnection;
import io.jcontainerd.sys.WalSync;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The namespaced metadata database: one SQLite file in WAL mode, the source of truth for namespaces
 * (and, as later subsystems migrate their tables in, images, containers, snapshots, content and leases).
 * A lock file held for the daemon's lifetime keeps a second daemon off the same root.
 */
public final class MetadataDb implements AutoCloseable {

    /** Work done inside one transaction. */
    @FunctionalInterface
    public interface TxWork<T> {
        T run(Connection tx) throws SQLException;
    }

    private final Path file;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final SqliteConnection conn;
    private final WalSync walSync;
    // SQLite has one writer; one connection guarded by a lock keeps transactions serial and simple.
    private final ReentrantLock txLock = new ReentrantLock();
    private final Clock clock;
    private final List<NamespaceStore.Occupancy> occupancy = new CopyOnWriteArrayList<>();
    private volatile MetadataContent content;
    private volatile GcTrigger gc = GcTrigger.NONE;
    /** Created on the first {@link #read}: nothing of it exists at boot. */
    private volatile ReaderPool readers;
    private volatile boolean closed;

    private MetadataDb(Path file, FileChannel lockChannel, FileLock lock, SqliteConnection conn, Clock clock) {
        this.clock = clock;
        this.file = file;
        this.lockChannel = lockChannel;
        this.lock = lock;
        this.conn = conn;
        this.walSync = new WalSync(file);
    }

    public static MetadataDb open(Path dir, Clock clock) throws IOException, SQLException {
        Files.createDirectories(dir);
        Path lockFile = dir.resolve("meta.lock");
        FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = ch.tryLock();
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
        if (lock == null) {
            ch.close();
            throw Errdefs.unavailable("metadata database %s is in use by another daemon", dir);
        }
        Path file = dir.resolve("meta.db");
        SqliteConnection conn = null;
        try {
            conn = SqliteConnection.open(file);
            try (Statement st = conn.createStatement()) {
                st.execute("PRAGMA journal_mode=WAL");
                // durable commits come from WalSync (fdatasync) after each write transaction
                st.execute("PRAGMA synchronous=NORMAL");
                st.execute("PRAGMA foreign_keys=ON");
                st.execute("PRAGMA busy_timeout=5000");
            }
            MetadataDb db = new MetadataDb(file, ch, lock, conn, clock);
            db.addOccupancy(ImageStore::occupancy);
            db.addOccupancy(ContentTables::occupancy);
            db.addOccupancy(ContainerStore::occupancy);
            db.migrate(Schema.MIGRATIONS);
            return db;
        } catch (SQLException | RuntimeException e) {
            if (conn != null) conn.close();
            lock.release();
            ch.close();
            throw e;
        }
    }

    public Clock clock() {
        return clock;
    }

    /** The namespace records as seen inside transaction {@code tx}. */
    public NamespaceStore namespaces(Connection tx) {
        return new NamespaceStore(tx, clock);
    }

    /** The image records of {@code namespace} as seen inside transaction {@code tx}. */
    public ImageStore images(Connection tx, String namespace) {
        return new ImageStore(tx, namespace, clock);
    }

    /** The container records of {@code namespace} as seen inside transaction {@code tx}. */
    public ContainerStore containers(Connection tx, String namespace) {
        return new ContainerStore(tx, namespace, clock);
    }

    private final Map<String, MetadataSnapshotter> snapshotters = new java.util.concurrent.ConcurrentHashMap<>();

    /** Wraps backend snapshotter {@code name}; its records then guard namespace deletion too. */
    void addSnapshotter(String name, io.jcontainerd.snapshots.Snapshotter backend) {
        MetadataSnapshotter s = new MetadataSnapshotter(this, name, backend);
        snapshotters.put(name, s);
        addOccupancy(s::occupancy);
    }

    /** The wrapped snapshotters by plugin id (e.g. "overlayfs"). */
    public Map<String, MetadataSnapshotter> snapshotters() {
        return Map.copyOf(snapshotters);
    }

    /** Lets a subsystem veto deleting a namespace that still holds its resources. */
    public void addOccupancy(NamespaceStore.Occupancy check) {
        occupancy.add(check);
    }

    public List<NamespaceStore.Occupancy> occupancy() {
        return List.copyOf(occupancy);
    }

    /**
     * The namespaced content layer over the backend content store (containerd's {@code db.ContentStore()});
     * FailedPrecondition when no content store plugin was available to wrap.
     */
    public MetadataContent content() {
        MetadataContent c = content;
        if (c == null) throw Errdefs.failedPrecondition("metadata: no content store is available");
        return c;
    }

    public boolean hasContent() {
        return content != null;
    }

    void setContent(MetadataContent content) {
        this.content = content;
    }

    /** The garbage collector's hooks; {@link GcTrigger#NONE} until a GC plugin installs itself. */
    public GcTrigger gcTrigger() {
        return gc;
    }

    public void setGcTrigger(GcTrigger trigger) {
        this.gc = trigger == null ? GcTrigger.NONE : trigger;
    }

    public Path file() {
        return file;
    }

    /** Runs {@code work} in a write transaction: all of it commits, or none of it. */
    public <T> T update(TxWork<T> work) {
        T result = inTransaction(work, true);
        gc.mutated();
        return result;
    }

    /** Work inside a transaction that also calls a backend store (filesystem I/O). */
    @FunctionalInterface
    public interface IoTxWork<T> {
        T run(Connection tx) throws SQLException, IOException;
    }

    /**
     * {@link #update} for work that also does backend I/O: an IOException rolls the transaction back
     * and reaches the caller as itself.
     */
    public <T> T updateIo(IoTxWork<T> work) throws IOException {
        try {
            return update(tx -> {
                try {
                    return work.run(tx);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
        } catch (java.io.UncheckedIOException e) {
            throw e.getCause();
        }
    }

    /**
     * Runs {@code work} against a consistent view, exclusive with every write transaction: nothing commits
     * while it runs. The garbage collector's backend cleanups depend on that (a backend object appears
     * inside the write transaction that records it); a plain read wants {@link #read}.
     */
    public <T> T view(TxWork<T> work) {
        return inTransaction(work, false);
    }

    /** How many read-only connections {@link #read} may hold open. */
    static final int MAX_READERS = 4;

    /**
     * Runs read-only {@code work} on a reader connection of its own (SQLite WAL): it waits neither for a
     * write transaction in progress nor for its fdatasync, and sees the last commit made before it
     * started (consistent across its statements), never uncommitted changes. That commit may still be
     * syncing: a read can see a change whose writer has not answered yet, as a concurrent reader may.
     * For the read-only service paths (Get/List/Info); work that must not interleave with writers
     * (the GC's backend cleanups) uses {@link #view}. Any attempt to write fails.
     */
    public <T> T read(TxWork<T> work) {
        return readers().read(work);
    }

    private ReaderPool readers() {
        ReaderPool r = readers;
        if (r != null) return r;
        synchronized (this) {
            if (closed) throw Errdefs.unavailable("metadata database is closed");
            if (readers == null) readers = new ReaderPool(file, Schema.MIGRATIONS.getLast().version(), MAX_READERS);
            return readers;
        }
    }

    /** How many reader connections are open, for tests. */
    int readerConnections() {
        ReaderPool r = readers;
        return r == null ? 0 : r.openConnections();
    }

    private <T> T inTransaction(TxWork<T> work, boolean write) {
        txLock.lock();
        try {
            // SQLite's own transaction through statements prepared once (the driver's auto-commit
            // switching would parse "begin;"/"commit;" four times per transaction)
            T result = conn.transaction(write, true, () -> work.run(conn));
            if (write) sync();
            return result;
        } catch (SQLException e) {
            throw new IllegalStateException("metadata database: " + e.getMessage(), e);
        } finally {
            txLock.unlock();
        }
    }

    /** The schema version recorded in the database. */
    public int schemaVersion() {
        return view(tx -> Schema.version(tx));
    }

    private void migrate(List<Schema.Migration> migrations) throws SQLException {
        txLock.lock();
        try {
            conn.setAutoCommit(false);
            try {
                Schema.migrate(conn, migrations);
                conn.commit();
                sync();
            } catch (SQLException | RuntimeException e) {
                conn.rollback();
                throw e;
            } finally {
                conn.setAutoCommit(true);
            }
        } finally {
            txLock.unlock();
        }
    }

    private void sync() {
        try {
            walSync.sync();
        } catch (java.io.IOException e) {
            throw new IllegalStateException("metadata database: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() throws Exception {
        ReaderPool r;
        synchronized (this) {
            closed = true;
            r = readers;
        }
        // readers first: the writer, closing last, checkpoints the WAL into the database
        if (r != null) r.close();
        txLock.lock();
        try {
            conn.close();
            walSync.close();
        } finally {
            txLock.unlock();
            lock.release();
            lockChannel.close();
        }
    }
}
