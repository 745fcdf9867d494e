package io.jcontainerd.sys;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SqliteConnectionTest {
    @TempDir
    Path dir;

    SqliteConnection c;

    @BeforeEach
    void open() throws SQLException {
        c = SqliteConnection.open(dir.resolve("t.db"));
        try (Statement st = c.createStatement()) {
            st.execute("PRAGMA journal_mode=WAL");
            st.execute("CREATE TABLE t (x INTEGER PRIMARY KEY, v TEXT)");
            st.execute("INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')");
        }
    }

    @AfterEach
    void close() throws SQLException {
        c.close();
    }

    @Test
    void aClosedStatementIsLentAgainForTheSameText() throws SQLException {
        PreparedStatement first = c.prepareStatement("SELECT v FROM t WHERE x = ?");
        first.setInt(1, 2);
        try (ResultSet rs = first.executeQuery()) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("b");
        }
        first.close();
        first.close(); // twice is harmless: it stays idle
        assertThat(c.idleStatements()).isEqualTo(1);
        try (PreparedStatement second = c.prepareStatement("SELECT v FROM t WHERE x = ?")) {
            assertThat(second).isSameAs(first);
            assertThat(c.idleStatements()).isZero();
            second.setInt(1, 3);
            try (ResultSet rs = second.executeQuery()) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualTo("c");
            }
        }
        assertThat(c.idleStatements()).isEqualTo(1);
    }

    @Test
    void nestedUseOfOneTextGetsItsOwnStatement() throws SQLException {
        String sql = "SELECT x FROM t WHERE x >= ? ORDER BY x";
        StringBuilder pairs = new StringBuilder();
        try (PreparedStatement outer = c.prepareStatement(sql)) {
            outer.setInt(1, 2);
            try (ResultSet rs = outer.executeQuery()) {
                while (rs.next()) {
                    try (PreparedStatement inner = c.prepareStatement(sql)) {
                        assertThat(inner).isNotSameAs(outer);
                        inner.setInt(1, rs.getInt(1));
                        try (ResultSet r2 = inner.executeQuery()) {
                            while (r2.next()) pairs.append(rs.getInt(1)).append(r2.getInt(1)).append(' ');
                        }
                    }
                }
            }
        }
        assertThat(pairs.toString()).isEqualTo("22 23 33 ");
        assertThat(c.idleStatements()).isEqualTo(1); // one kept, the other finalized
    }

    @Test
    void parametersDoNotLeakIntoTheNextUse() throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT ? IS NULL")) {
            ps.setString(1, "x");
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                assertThat(rs.getBoolean(1)).isFalse();
            }
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT ? IS NULL"); ResultSet rs = ps.executeQuery()) {
            rs.next();
            assertThat(rs.getBoolean(1)).isTrue();
        }
    }

    @Test
    void anIdleStatementHoldsNoReadSnapshot() throws SQLException {
        // read one row of three and give the statement back without finishing it
        try (PreparedStatement ps = c.prepareStatement("SELECT x FROM t ORDER BY x")) {
            ResultSet rs = ps.executeQuery();
            assertThat(rs.next()).isTrue();
        }
        try (SqliteConnection other = SqliteConnection.open(dir.resolve("t.db")); Statement st = other.createStatement()) {
            st.execute("INSERT INTO t VALUES (4, 'd')");
            // a reader still on its old snapshot would make the truncating checkpoint report busy (1)
            try (ResultSet rs = st.executeQuery("PRAGMA wal_checkpoint(TRUNCATE)")) {
                rs.next();
                assertThat(rs.getInt(1)).isZero();
            }
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM t"); ResultSet rs = ps.executeQuery()) {
            rs.next();
            assertThat(rs.getInt(1)).isEqualTo(4);
        }
    }

    @Test
    void transactionsFramedWithExecCommitAndRollBack() throws SQLException {
        c.exec("BEGIN IMMEDIATE");
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO t (x, v) VALUES (?, ?)")) {
            ps.setInt(1, 10);
            ps.setString(2, "kept");
            ps.executeUpdate();
        }
        c.exec("COMMIT");
        c.exec("BEGIN IMMEDIATE");
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO t (x, v) VALUES (?, ?)")) {
            ps.setInt(1, 11);
            ps.setString(2, "dropped");
            ps.executeUpdate();
        }
        c.exec("ROLLBACK");
        try (PreparedStatement ps = c.prepareStatement("SELECT group_concat(x) FROM t WHERE x >= 10"); ResultSet rs = ps.executeQuery()) {
            rs.next();
            assertThat(rs.getString(1)).isEqualTo("10");
        }
    }

    @Test
    void closingTheConnectionFinalizesIdleStatements() throws SQLException {
        PreparedStatement ps = c.prepareStatement("SELECT 1");
        ps.close();
        assertThat(ps.isClosed()).isFalse(); // idle, still prepared
        c.close();
        assertThat(ps.isClosed()).isTrue();
    }
}
