package io.jcontainerd.gc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jcontainerd.metadata.MetadataDb;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The engine with resource types of the test's own (the way images, containers and snapshots will plug
 * in): objects with a root flag, a structural parent and declared references, in a table of their own.
 */
class GarbageCollectorTest {
    static final ResourceType WIDGET = new ResourceType("widget");
    static final ResourceType GADGET = new ResourceType("gadget");

    @TempDir
    Path dir;
    MetadataDb db;
    MutableClock clock = new MutableClock(Instant.parse("2024-01-01T00:00:00Z"));
    GarbageCollector gc;

    /** Rows of gc_test_objects of one type. refs: "type:key" comma separated; parent: same type. */
    record TableResource(ResourceType type) implements GcResource {
        @Override
        public void roots(Connection tx, Instant now, RefSink out) throws SQLException {
            for (String[] r : Sql.rows(tx, "SELECT namespace, key FROM gc_test_objects WHERE type = ? AND root = '1'", type.name())) {
                out.add(new Node(type, r[0], r[1]));
            }
            for (String[] r : Sql.rows(tx, "SELECT namespace, key FROM gc_test_objects WHERE type = ? AND root = 'flat'", type.name())) {
                out.add(new Node(type, r[0], r[1]), true);
            }
        }

        @Override
        public void references(Connection tx, Node node, boolean flat, RefSink out) throws SQLException {
            for (String[] r : Sql.rows(tx, "SELECT parent, refs FROM gc_test_objects WHERE type = ? AND namespace = ? AND key = ?",
                    type.name(), node.namespace(), node.key())) {
                if (r[0] != null) out.add(new Node(type, node.namespace(), r[0]), flat);
                if (flat || r[1] == null) continue;
                for (String ref : r[1].split(",")) {
                    String[] tk = ref.split(":", 2);
                    out.add(new Node(new ResourceType(tk[0]), node.namespace(), tk[1]));
                }
            }
        }

        @Override
        public List<Node> all(Connection tx) throws SQLException {
            List<Node> out = new ArrayList<>();
            for (String[] r : Sql.rows(tx, "SELECT namespace, key FROM gc_test_objects WHERE type = ?", type.name())) {
                out.add(new Node(type, r[0], r[1]));
            }
            return out;
        }

        @Override
        public void remove(Connection tx, Node node) throws SQLException {
            if (node.key().equals("poison")) throw new SQLException("cannot remove poison");
            Sql.update(tx, "DELETE FROM gc_test_objects WHERE type = ? AND namespace = ? AND key = ?",
                    type.name(), node.namespace(), node.key());
        }
    }

    /** A backend holding widget data by key; cleanup drops what no widget row names. */
    final class WidgetBackend implements BackendCleanup {
        final Set<String> data = new TreeSet<>();
        int runs;
        RuntimeException crash;

        @Override
        public String name() {
            return "widgets";
        }

        @Override
        public boolean affectedBy(Node removed) {
            return removed.type().equals(WIDGET);
        }

        @Override
        public void cleanup(MetadataDb db) {
            runs++;
            if (crash != null) throw crash;
            Set<String> referenced = db.view(tx -> {
                Set<String> s = new HashSet<>();
                for (String[] r : Sql.rows(tx, "SELECT key FROM gc_test_objects WHERE type = 'widget'")) s.add(r[0]);
                return s;
            });
            data.retainAll(referenced);
        }
    }

    @BeforeEach
    void open() throws Exception {
        db = MetadataDb.open(dir, clock);
        db.update(tx -> {
            try (var st = tx.createStatement()) {
                st.execute("CREATE TABLE gc_test_objects (type TEXT, namespace TEXT, key TEXT, root TEXT, parent TEXT, refs TEXT)");
            }
            return null;
        });
        gc = new GarbageCollector(db, clock);
        gc.register(new TableResource(WIDGET));
        gc.register(new TableResource(GADGET));
    }

    @AfterEach
    void close() throws Exception {
        db.close();
    }

    void put(ResourceType t, String key, String root, String parent, String refs) {
        put(t, "ns", key, root, parent, refs);
    }

    void put(ResourceType t, String ns, String key, String root, String parent, String refs) {
        db.update(tx -> Sql.update(tx, "INSERT INTO gc_test_objects VALUES (?, ?, ?, ?, ?, ?)",
                t.name(), ns, key, root, parent, refs));
    }

    Set<String> remaining() {
        return db.view(tx -> {
            Set<String> s = new TreeSet<>();
            for (String[] r : Sql.rows(tx, "SELECT type, namespace, key FROM gc_test_objects")) s.add(r[0] + ":" + r[1] + "/" + r[2]);
            return s;
        });
    }

    @Test
    void removesWhatNoRootReaches() {
        put(WIDGET, "root", "1", null, "widget:a,gadget:g1");
        put(WIDGET, "a", null, null, "widget:b");
        put(WIDGET, "b", null, null, null);
        put(WIDGET, "lonely", null, null, null);
        put(WIDGET, "c1", null, null, "widget:c2"); // an unreachable cycle
        put(WIDGET, "c2", null, null, "widget:c1");
        put(GADGET, "g1", null, null, "widget:missing,gadget:missing"); // dangling edges are fine
        put(GADGET, "g2", null, null, null);
        put(WIDGET, "other", "root", null, null, null); // same key, other namespace: separate node
        put(WIDGET, "other", "a", null, null, null);

        GcStats stats = gc.collect();

        assertThat(remaining()).containsExactly("gadget:ns/g1", "widget:ns/a", "widget:ns/b", "widget:ns/root");
        assertThat(stats.removed(WIDGET)).isEqualTo(5);
        assertThat(stats.removed(GADGET)).isEqualTo(1);
        assertThat(gc.collect().removed()).isEmpty();
        GcTotals totals = gc.totals();
        assertThat(totals.collections()).isEqualTo(2);
        assertThat(totals.removed()).containsEntry(WIDGET, 5L).containsEntry(GADGET, 1L);
    }

    @Test
    void flatReferencesFollowOnlyStructure() {
        put(WIDGET, "top", "flat", "mid", "gadget:g");
        put(WIDGET, "mid", null, "base", "gadget:h");
        put(WIDGET, "base", null, null, null);
        put(GADGET, "g", null, null, null);
        put(GADGET, "h", null, null, null);
        gc.collect();
        assertThat(remaining()).containsExactly("widget:ns/base", "widget:ns/mid", "widget:ns/top");
    }

    @Test
    void aFailedSweepRemovesNothing() {
        put(WIDGET, "a", null, null, null);
        put(WIDGET, "poison", null, null, null);
        assertThatThrownBy(gc::collect).hasMessageContaining("cannot remove poison");
        assertThat(remaining()).containsExactly("widget:ns/a", "widget:ns/poison");
        assertThat(gc.totals().failures()).isEqualTo(1);
        assertThat(gc.totals().collections()).isZero();
    }

    @Test
    void backendCleanupRunsAfterCommitWhenAffected() {
        WidgetBackend backend = new WidgetBackend();
        gc.register(backend);
        put(WIDGET, "keep", "1", null, null);
        put(WIDGET, "drop", null, null, null);
        backend.data.addAll(List.of("keep", "drop", "stray"));

        GcStats first = gc.collect();
        assertThat(backend.runs).isEqualTo(1);
        assertThat(backend.data).containsExactly("keep"); // saw the committed state
        assertThat(first.cleanups()).containsKey("widgets");

        // nothing removed, nothing marked: the backend is left alone
        backend.data.add("stray2");
        gc.collect();
        assertThat(backend.runs).isEqualTo(1);

        // a removed gadget does not concern the widget backend
        put(GADGET, "g", null, null, null);
        gc.collect();
        assertThat(backend.runs).isEqualTo(1);

        // a widget deleted by its subsystem outside the collector
        gc.markDirty(new Node(WIDGET, "ns", "x"));
        gc.collect();
        assertThat(backend.runs).isEqualTo(2);
        assertThat(backend.data).containsExactly("keep");
    }

    @Test
    void firstRunAfterRegistrationCleansEvenWithNothingRemoved() {
        // the state a crash leaves: metadata gone, backend data still there
        WidgetBackend backend = new WidgetBackend();
        backend.data.add("orphan");
        gc.register(backend);
        GcStats stats = gc.collect();
        assertThat(stats.removed()).isEmpty();
        assertThat(backend.data).isEmpty();
    }

    @Test
    void aCrashBetweenMetadataDeleteAndBackendCleanupIsFinishedNextRun() {
        WidgetBackend backend = new WidgetBackend();
        gc.register(backend);
        gc.collect();
        put(WIDGET, "drop", null, null, null);
        backend.data.add("drop");

        backend.crash = new IllegalStateException("killed");
        GcStats crashed = gc.collect();
        assertThat(crashed.removed(WIDGET)).isEqualTo(1);
        assertThat(remaining()).isEmpty(); // the metadata delete committed
        assertThat(backend.data).containsExactly("drop");
        assertThat(crashed.cleanupFailures()).containsEntry("widgets", "killed");
        assertThat(gc.totals().cleanupFailures()).isEqualTo(1);

        backend.crash = null;
        GcStats next = gc.collect();
        assertThat(next.removed()).isEmpty();
        assertThat(next.cleanups()).containsKey("widgets");
        assertThat(backend.data).isEmpty();
    }

    @Test
    void aRestartedCollectorFinishesTheJob() throws Exception {
        WidgetBackend backend = new WidgetBackend();
        gc.register(backend);
        put(WIDGET, "drop", null, null, null);
        backend.data.add("drop");
        backend.crash = new IllegalStateException("killed");
        gc.collect();
        assertThat(backend.data).containsExactly("drop");

        // "restart": a new collector over the same database, same backend data
        db.close();
        db = MetadataDb.open(dir, clock);
        GarbageCollector restarted = new GarbageCollector(db, clock);
        restarted.register(new TableResource(WIDGET));
        backend.crash = null;
        restarted.register(backend);
        restarted.collect();
        assertThat(backend.data).isEmpty();
    }

    @Test
    void oneResourcePerType() {
        assertThatThrownBy(() -> gc.register(new TableResource(WIDGET))).isInstanceOf(IllegalStateException.class);
    }
}
