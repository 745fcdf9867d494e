package io.jcontainerd.sys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WalSyncTest {
    @TempDir
    Path dir;

    @Test
    void syncsTheWalOfAWalDatabase() throws Exception {
        Path db = dir.resolve("t.db");
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db); Statement st = c.createStatement();
             WalSync sync = new WalSync(db)) {
            st.execute("PRAGMA journal_mode=WAL");
            st.execute("PRAGMA synchronous=NORMAL");
            st.execute("CREATE TABLE t (x INTEGER)");
            st.execute("INSERT INTO t VALUES (1)");
            assertThat(dir.resolve("t.db-wal")).exists();
            sync.sync();
            st.execute("INSERT INTO t VALUES (2)");
            sync.sync();
        }
    }

    @Test
    void noWalIsNothingToSync() {
        try (WalSync sync = new WalSync(dir.resolve("none.db"))) {
            assertThatCode(sync::sync).doesNotThrowAnyException();
        }
    }

    @Test
    void anInterruptedCallerStillSyncsAndKeepsItsInterrupt() throws Exception {
        Path db = dir.resolve("i.db");
        Path wal = dir.resolve("i.db-wal");
        Files.writeString(wal, "data");
        try (WalSync sync = new WalSync(db)) {
            sync.sync();
            Thread.currentThread().interrupt();
            try {
                assertThatCode(sync::sync).doesNotThrowAnyException();
                assertThat(Thread.currentThread().isInterrupted()).isTrue();
            } finally {
                Thread.interrupted();
            }
            assertThatCode(sync::sync).doesNotThrowAnyException(); // and the next sync has a working channel
        }
    }

    @Test
    void aReplacedWalIsReopened() throws Exception {
        Path db = dir.resolve("r.db");
        Path wal = dir.resolve("r.db-wal");
        try (WalSync sync = new WalSync(db)) {
            Files.writeString(wal, "one");
            sync.sync();
            Files.delete(wal);
            Files.writeString(wal, "two"); // a new inode
            assertThatCode(sync::sync).doesNotThrowAnyException();
        }
    }
}
