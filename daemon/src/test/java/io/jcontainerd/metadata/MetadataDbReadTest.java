package io.jcontainerd.metadata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jcontainerd.sys.SqliteConnection;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link MetadataDb#read}: reader connections beside the writer. Writers are held inside their transaction
 * by latches, so each test states an order of events rather than hoping for one; a read that waited for
 * the writer would hang, which the timeout turns into a failure.
 */
@Timeout(60)
class MetadataDbReadTest {
    @TempDir
    Path dir;
    MetadataDb db;
    final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
    final CountDownLatch release = new CountDownLatch(1);

    @BeforeEach
    void open() throws Exception {
        db = MetadataDb.open(dir, Clock.systemUTC());
    }

    @AfterEach
    void close() throws Exception {
        release.countDown(); // never leave a writer parked
        threads.close();
        db.close();
    }

    /** A latch wait inside transaction work, whose signature admits SQLException only. */
    static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private List<String> namespaces() {
        return db.read(tx -> db.namespaces(tx).list());
    }

    /** Starts a write transaction that creates namespace {@code name}, then waits inside it for {@link #release}. */
    private Future<?> writerHeldOpen(String name) throws InterruptedException {
        CountDownLatch inside = new CountDownLatch(1);
        Future<?> writer = threads.submit(() -> db.update(tx -> {
            db.namespaces(tx).create(name, Map.of("k", "v"));
            inside.countDown();
            await(release);
            return null;
        }));
        inside.await();
        return writer;
    }

    @Test
    void readCompletesWhileAWriteTransactionIsHeldOpenAndSeesOnlyCommittedData() throws Exception {
        db.update(tx -> {
            db.namespaces(tx).create("committed", Map.of());
            return null;
        });
        Future<?> writer = writerHeldOpen("uncommitted");

        // the writer holds the database (and its lock) until released: this read must not wait for it
        assertThat(namespaces()).containsExactly("committed");
        boolean seen = db.read(tx -> db.namespaces(tx).exists("uncommitted"));
        assertThat(seen).isFalse();
        assertThat(writer).isNotDone();

        release.countDown();
        writer.get();
        assertThat(namespaces()).containsExactly("committed", "uncommitted");
        Map<String, String> labels = db.read(tx -> db.namespaces(tx).labels("uncommitted"));
        assertThat(labels).isEqualTo(Map.of("k", "v"));
    }

    @Test
    void oneReadSeesOneCommitAcrossItsStatements() throws Exception {
        db.update(tx -> {
            db.namespaces(tx).create("a", Map.of());
            return null;
        });
        CountDownLatch firstQueryDone = new CountDownLatch(1);
        CountDownLatch committed = new CountDownLatch(1);
        Future<List<List<String>>> reader = threads.submit(() -> db.read(tx -> {
            List<List<String>> seen = new ArrayList<>();
            seen.add(db.namespaces(tx).list());
            firstQueryDone.countDown();
            await(committed);
            seen.add(db.namespaces(tx).list());
            return seen;
        }));
        firstQueryDone.await();
        db.update(tx -> {
            db.namespaces(tx).create("b", Map.of());
            return null;
        });
        committed.countDown();
        // a commit in the middle of a read is not seen by it, only by the reads after it
        assertThat(reader.get()).containsExactly(List.of("a"), List.of("a"));
        assertThat(namespaces()).containsExactly("a", "b");
    }

    @Test
    void readersAreOpenedOnlyWhenReadsNeedThemAndAtMostFour() throws Exception {
        assertThat(db.readerConnections()).isZero(); // none at open (boot)
        db.view(tx -> db.namespaces(tx).list());
        assertThat(db.readerConnections()).as("view() stays on the writer's connection").isZero();

        namespaces();
        namespaces();
        assertThat(db.readerConnections()).as("sequential reads reuse one reader").isEqualTo(1);

        // six reads parked at once inside their transactions: four run, two wait for a reader
        int parked = MetadataDb.MAX_READERS;
        CountDownLatch allIn = new CountDownLatch(parked);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<List<String>>> reads = new ArrayList<>();
        for (int i = 0; i < parked + 2; i++) {
            reads.add(threads.submit(() -> db.read(tx -> {
                allIn.countDown();
                await(go);
                return db.namespaces(tx).list();
            })));
        }
        allIn.await();
        assertThat(db.readerConnections()).isEqualTo(MetadataDb.MAX_READERS);
        go.countDown();
        for (Future<List<String>> f : reads) assertThat(f.get()).isEmpty();
        assertThat(db.readerConnections()).isEqualTo(MetadataDb.MAX_READERS);
    }

    @Test
    void readerConnectionsRefuseWritesAndKeepTheirStatements() throws Exception {
        assertThatThrownBy(() -> db.read(tx -> {
            db.namespaces(tx).create("nope", Map.of());
            return null;
        })).isInstanceOf(IllegalStateException.class).hasMessageContaining("readonly");
        assertThat(namespaces()).isEmpty(); // and the reader is still usable

        String sql = "SELECT name FROM namespaces ORDER BY name";
        int[] idle = new int[2];
        for (int i = 0; i < 2; i++) {
            int n = i;
            db.read(tx -> {
                try (PreparedStatement ps = tx.prepareStatement(sql); ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) rs.getString(1);
                }
                idle[n] = ((SqliteConnection) tx).idleStatements();
                return null;
            });
        }
        // the second read took its statement from the reader's cache and gave it back: the cache did not grow
        assertThat(idle[1]).isEqualTo(idle[0]).isPositive();
    }

    @Test
    void readersSeeTheMigratedSchemaAndCloseWithTheDatabase() throws Exception {
        int version = db.read(tx -> {
            try (PreparedStatement ps = tx.prepareStatement("SELECT version FROM schema_version"); ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getInt(1) : 0;
            }
        });
        assertThat(version).isEqualTo(db.schemaVersion()).isPositive();
        db.close();
        assertThatThrownBy(this::namespaces).hasMessageContaining("closed");
        db = MetadataDb.open(dir, Clock.systemUTC()); // the lock file was released; afterEach closes this one
        assertThat(db.readerConnections()).isZero();
    }
}
