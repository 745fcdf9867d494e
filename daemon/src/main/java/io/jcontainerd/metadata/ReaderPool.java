package io.jcontainerd.metadata;

import io.jcontainerd.errdefs.Errdefs;
import io.jcontainerd.sys.SqliteConnection;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Read-only connections to the metadata database for {@link MetadataDb#read}. In WAL mode a reader
 * neither waits for the writer nor blocks it: each read transaction sees the last commit made before its
 * first query. A connection is opened only when a read finds none idle and fewer than {@code max}
 * exist, so a daemon that never reads concurrently never pays for one (none is opened at boot); opened
 * ones stay for reuse, each with its own statement cache.
 */
final class ReaderPool implements AutoCloseable {
    private final Path file;
    private final int schemaVersion;
    private final Semaphore permits;
    private final int max;
    private final ConcurrentLinkedDeque<SqliteConnection> idle = new ConcurrentLinkedDeque<>();
    private final AtomicInteger opened = new AtomicInteger();
    private volatile boolean closed;

    /** Readers of {@code file}, whose schema the writer has migrated to {@code schemaVersion}. */
    ReaderPool(Path file, int schemaVersion, int max) {
        this.file = file;
        this.schemaVersion = schemaVersion;
        this.max = max;
        this.permits = new Semaphore(max, true);
    }

    <T> T read(MetadataDb.TxWork<T> work) {
        if (closed) throw Errdefs.unavailable("metadata database is closed");
        permits.acquireUninterruptibly(); // a read is short: waiting for one beats failing a request
        try {
            if (closed) throw Errdefs.unavailable("metadata database is closed");
            SqliteConnection idleOne = idle.pollFirst();
            SqliteConnection conn = idleOne != null ? idleOne : open();
            try {
                // one snapshot for the whole of work: several statements see the same commit
                return conn.transaction(false, true, () -> work.run(conn));
            } finally {
                idle.addFirst(conn); // most recently used first: its page cache is the warmest
            }
        } catch (SQLException e) {
            throw new IllegalStateException("metadata database: " + e.getMessage(), e);
        } finally {
            permits.release();
        }
    }

    private SqliteConnection open() throws SQLException {
        SqliteConnection conn = SqliteConnection.openReadOnly(file);
        try {
            int v;
            try (Statement st = conn.createStatement()) {
                // a reader only waits in rare moments (WAL recovery, a checkpoint restarting the log)
                st.execute("PRAGMA busy_timeout=5000");
                // the writer migrated the schema before any reader could exist; another version means another file
                try (ResultSet rs = st.executeQuery("SELECT version FROM schema_version")) {
                    v = rs.next() ? rs.getInt(1) : 0;
                }
            }
            if (v != schemaVersion) {
                throw new SQLException("reader sees schema version " + v + ", expected " + schemaVersion);
            }
        } catch (SQLException | RuntimeException e) {
            conn.close();
            throw e;
        }
        opened.incrementAndGet();
        return conn;
    }

    /** How many reader connections are open, for tests. */
    int openConnections() {
        return opened.get();
    }

    /** Closes the readers once the reads in progress (given 10 s) are done. */
    @Override
    public void close() throws SQLException {
        closed = true;
        boolean drained = false;
        try {
            drained = permits.tryAcquire(max, 10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        List<SqliteConnection> all = new ArrayList<>();
        for (SqliteConnection c; (c = idle.pollFirst()) != null; ) all.add(c);
        SQLException failed = null;
        for (SqliteConnection c : all) {
            try {
                c.close();
            } catch (SQLException e) {
                failed = e;
            }
            opened.decrementAndGet();
        }
        if (drained) permits.release(max);
        if (failed != null) throw failed;
    }
}
