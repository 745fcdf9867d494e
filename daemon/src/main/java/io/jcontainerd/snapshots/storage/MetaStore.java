package io.jcontainerd.snapshots.storage;

import io.jcontainerd.errdefs.Errdefs;
import io.jcontainerd.snapshots.Info;
import io.jcontainerd.snapshots.Kind;
import io.jcontainerd.snapshots.Usage;
import io.jcontainerd.sys.SqliteConnection;
import io.jcontainerd.sys.WalSync;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * A snapshotter's own transactional record of its snapshots, in one SQLite file under its root:
 * numeric ids (never reused), names, kinds, parent links, labels, timestamps and the usage recorded
 * at commit. The operations are containerd's snapshot storage model, on {@link Tx}.
 *
 * <p>Writes go through one connection and are serialized; reads use a second connection, so that
 * Stat/Walk/Mounts are not held up by a long write (WAL mode lets them see the last commit).
 */
public final class MetaStore implements AutoCloseable {

    /** Work inside a transaction; anything thrown rolls it back. */
    @FunctionalInterface
    public interface Work<T> {
        T run(Tx tx) throws IOException;
    }

    private static final int SCHEMA_VERSION = 1;

    private final Path file;
    private final SqliteConnection writer;
    private final SqliteConnection reader;
    private final ReentrantLock writeLock = new ReentrantLock();
    private final ReentrantLock readLock = new ReentrantLock();
    private final WalSync walSync;

    private MetaStore(Path file, SqliteConnection writer, SqliteConnection reader) {
        this.file = file;
        this.walSync = new WalSync(file);
        this.writer = writer;
        this.reader = reader;
    }

    /** Opens (creating if needed) the store in {@code file}. */
    public static MetaStore open(Path file) throws IOException {
        SqliteConnection w = null;
        SqliteConnection r = null;
        try {
            w = SqliteConnection.open(file);
            try (Statement st = w.createStatement()) {
                st.execute("PRAGMA journal_mode=WAL");
                // durable commits come from WalSync (fdatasync) after each write transaction
                st.execute("PRAGMA synchronous=NORMAL");
                st.execute("PRAGMA foreign_keys=ON");
                st.execute("PRAGMA busy_timeout=5000");
            }
            migrate(w);
            r = SqliteConnection.open(file);
            try (Statement st = r.createStatement()) {
                st.execute("PRAGMA busy_timeout=5000");
                st.execute("PRAGMA query_only=ON");
            }
            return new MetaStore(file, w, r);
        } catch (SQLException e) {
            closeQuietly(r);
            closeQuietly(w);
            throw new IOException("open snapshot metadata " + file + ": " + e.getMessage(), e);
        }
    }

    private static void migrate(Connection c) throws SQLException {
        c.setAutoCommit(false);
        try (Statement st = c.createStatement()) {
            int version;
            try (var rs = st.executeQuery("PRAGMA user_version")) {
                version = rs.next() ? rs.getInt(1) : 0;
            }
            if (version > SCHEMA_VERSION) {
                throw new SQLException("snapshot metadata schema version " + version + " is newer than supported " + SCHEMA_VERSION);
            }
            if (version < 1) {
                // AUTOINCREMENT: ids are never reused, like bolt's bucket sequence, so a directory
                // awaiting cleanup can never be mistaken for a new snapshot's
                st.execute("""
                        CREATE TABLE snapshots (
                          id INTEGER PRIMARY KEY AUTOINCREMENT,
                          name TEXT NOT NULL UNIQUE,
                          kind INTEGER NOT NULL,
                          parent_id INTEGER REFERENCES snapshots(id),
                          created INTEGER NOT NULL,
                          updated INTEGER NOT NULL,
                          size INTEGER NOT NULL DEFAULT 0,
                          inodes INTEGER NOT NULL DEFAULT 0)""");
                st.execute("CREATE INDEX snapshots_parent ON snapshots(parent_id)");
                st.execute("""
                        CREATE TABLE labels (
                          snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
                          key TEXT NOT NULL,
                          value TEXT NOT NULL,
                          PRIMARY KEY (snapshot_id, key)) WITHOUT ROWID""");
                st.execute("PRAGMA user_version=" + SCHEMA_VERSION);
            }
            c.commit();
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(true);
        }
    }

    public Path file() {
        return file;
    }

    /** Runs {@code work} in a write transaction: all of it commits, or none of it. */
    public <T> T update(Work<T> work) throws IOException {
        return run(writer, writeLock, true, true, work);
    }

    /**
     * Runs {@code work} holding the write lock, then rolls back (nothing to commit or sync): for scans
     * that must not interleave with writers, such as a cleanup's search for orphaned directories.
     */
    public <T> T exclusive(Work<T> work) throws IOException {
        return run(writer, writeLock, true, false, work);
    }

    /** Runs {@code work} against a consistent read-only view of the last commit. */
    public <T> T view(Work<T> work) throws IOException {
        return run(reader, readLock, false, false, work);
    }

    private <T> T run(SqliteConnection c, ReentrantLock lock, boolean write, boolean commit, Work<T> work) throws IOException {
        lock.lock();
        try {
            T result = c.transaction(write, commit, () -> work.run(new Tx(c)));
            if (commit) walSync.sync();
            return result;
        } catch (SQLException e) {
            throw new IOException("snapshot metadata: " + e.getMessage(), e);
        } finally {
            lock.unlock();
        }
    }

    // ---- one-call helpers for the snapshotters' read paths ----

    /** The info of {@code key}. */
    public Info stat(String key) throws IOException {
        return view(tx -> tx.getInfo(key).info());
    }

    /** Updates labels as {@link Tx#updateInfo}. */
    public Info updateInfo(Info info, List<String> fieldPaths) throws IOException {
        return update(tx -> tx.updateInfo(info, fieldPaths));
    }

    /** Walks as {@link Tx#walkInfo}. */
    public void walk(Consumer<Info> fn, List<String> filters) throws IOException {
        view(tx -> {
            tx.walkInfo(fn, filters);
            return null;
        });
    }

    /** The id, info and recorded usage of {@code key}. */
    public Tx.Stored getInfo(String key) throws IOException {
        return view(tx -> tx.getInfo(key));
    }

    /** The active or view snapshot {@code key}, for its mounts. */
    public Snapshot getSnapshot(String key) throws IOException {
        return view(tx -> tx.getSnapshot(key));
    }

    /** The usage recorded for committed snapshots and nothing for others is the store's default. */
    static Usage zeroUnlessCommitted(Kind kind, long size, long inodes) {
        return kind == Kind.COMMITTED ? new Usage(size, inodes) : Usage.ZERO;
    }

    static RuntimeException notFound(String fmt, Object... args) {
        return Errdefs.notFound(fmt + ": not found", args);
    }

    @Override
    public void close() throws IOException {
        writeLock.lock();
        readLock.lock();
        try {
            reader.close();
            writer.close();
            walSync.close();
        } catch (SQLException e) {
            throw new IOException("close snapshot metadata: " + e.getMessage(), e);
        } finally {
            readLock.unlock();
            writeLock.unlock();
        }
    }

    private static void closeQuietly(Connection c) {
        if (c == null) return;
        try {
            c.close();
        } catch (SQLException ignored) {
            // nothing to do
        }
    }
}
