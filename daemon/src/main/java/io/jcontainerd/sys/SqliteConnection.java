package io.jcontainerd.sys;

import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteOpenMode;
import org.sqlite.jdbc4.JDBC4Connection;
import org.sqlite.jdbc4.JDBC4PreparedStatement;

/**
 * A SQLite connection that keeps its prepared statements. Parsing and planning is most of what a small
 * statement costs, and the stores run the same few dozen statement texts over and over, so
 * {@link #prepareStatement(String)} lends out an idle statement of the same text when there is one, and
 * {@code close()} on a lent statement resets it (no read snapshot held, no bindings kept) and takes it
 * back instead of finalizing it. Lending removes a statement from the idle set, so a nested use of the
 * same text (a query inside the loop of another with the same text) simply gets a second statement.
 * Idle statements are finalized with the connection. Like any JDBC connection, one user at a time: the
 * stores hold their transaction lock around every use.
 *
 * <p>Opened with {@code jdbc.get_generated_keys=false}: otherwise the driver runs a freshly prepared
 * {@code SELECT last_insert_rowid()} after every INSERT; code that needs a new row's id uses
 * {@code INSERT ... RETURNING}.
 */
public final class SqliteConnection extends JDBC4Connection {
    /** More than the stores' distinct statement texts; past it, statements are simply not kept. */
    private static final int MAX_IDLE = 256;

    private final Map<String, Cached> idle = new HashMap<>();

    private SqliteConnection(Path file, Properties props) throws SQLException {
        super("jdbc:sqlite:" + file, file.toString(), props);
    }

    /** Opens (creating if needed) the database in {@code file}, in auto-commit mode. */
    public static SqliteConnection open(Path file) throws SQLException {
        return new SqliteConnection(file, properties());
    }

    /**
     * Opens the existing database in {@code file} read-only ({@code SQLITE_OPEN_READONLY}): a WAL reader
     * beside a writing connection, which any attempt to write fails with {@code SQLITE_READONLY}.
     */
    public static SqliteConnection openReadOnly(Path file) throws SQLException {
        Properties p = properties();
        p.setProperty(SQLiteConfig.Pragma.OPEN_MODE.pragmaName, Integer.toString(SQLiteOpenMode.READONLY.flag));
        return new SqliteConnection(file, p);
    }

    private static Properties properties() {
        Properties p = new Properties();
        p.setProperty(SQLiteConfig.Pragma.JDBC_GET_GENERATED_KEYS.pragmaName, "false");
        return p;
    }

    @Override
    public PreparedStatement prepareStatement(String sql, int type, int concurrency, int holdability) throws SQLException {
        checkOpen();
        checkCursor(type, concurrency, holdability);
        Cached s;
        synchronized (idle) {
            s = idle.remove(sql);
        }
        if (s == null || s.isClosed()) s = new Cached(sql);
        s.lent = true;
        return s;
    }

    /**
     * Runs a statement without parameters or results ({@code BEGIN IMMEDIATE}, {@code COMMIT}, ...),
     * prepared once per connection. With the driver in auto-commit mode, transactions framed this way
     * are SQLite's own, not the driver's.
     */
    public void exec(String sql) throws SQLException {
        try (PreparedStatement ps = prepareStatement(sql)) {
            ps.execute();
        }
    }

    /** Work inside a transaction of {@link #transaction}; {@code X} is what its caller lets through. */
    @FunctionalInterface
    public interface TransactionWork<T, X extends Exception> {
        T run() throws X, SQLException;
    }

    /**
     * {@code BEGIN} ({@code BEGIN IMMEDIATE} with {@code immediate}: the write lock taken up front, so a write
     * never fails half-way on a busy database), {@code work}, then {@code COMMIT}, or {@code ROLLBACK} when
     * {@code commit} is false or {@code work} fails. Callers serialize their own use of the connection.
     */
    public <T, X extends Exception> T transaction(boolean immediate, boolean commit, TransactionWork<T, X> work)
            throws X, SQLException {
        exec(immediate ? "BEGIN IMMEDIATE" : "BEGIN");
        boolean ended = false;
        try {
            T result = work.run();
            exec(commit ? "COMMIT" : "ROLLBACK");
            ended = true;
            return result;
        } finally {
            if (!ended) {
                try {
                    exec("ROLLBACK");
                } catch (SQLException ignored) {
                    // no transaction left to roll back (a failed COMMIT has ended it already)
                }
            }
        }
    }

    /** How many statements are idle, for tests. */
    public int idleStatements() {
        synchronized (idle) {
            return idle.size();
        }
    }

    @Override
    public void close() throws SQLException {
        SQLException failed = null;
        synchronized (idle) {
            for (Cached s : idle.values()) {
                try {
                    s.finalizeNow();
                } catch (SQLException e) {
                    failed = e;
                }
            }
            idle.clear();
        }
        super.close(); // finalizes whatever else the connection prepared
        if (failed != null) throw failed;
    }

    private final class Cached extends JDBC4PreparedStatement {
        private boolean lent;

        Cached(String sql) throws SQLException {
            super(SqliteConnection.this, sql);
        }

        void finalizeNow() throws SQLException {
            lent = false;
            super.close();
        }

        @Override
        public void close() throws SQLException {
            if (!lent) return; // idle (closing twice is harmless) or finalized
            lent = false;
            if (isClosed() || SqliteConnection.this.isClosed()) return;
            boolean kept = false;
            try {
                rs.close();
                clearGeneratedKeys();
                clearBatch();
                clearParameters();
                // a statement stepped but not reset keeps its read transaction (and WAL snapshot) open
                pointer.safeRunInt((db, ptr) -> db.reset(ptr));
                synchronized (idle) {
                    kept = idle.size() < MAX_IDLE && idle.putIfAbsent(sql, this) == null;
                }
            } finally {
                if (!kept) super.close();
            }
        }
    }
}
