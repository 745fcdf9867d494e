package io.jcontainerd.metadata;

import static org.assertj.core.api.Assertions.assertThat;

import io.jcontainerd.mount.Mount;
import io.jcontainerd.snapshots.Info;
import io.jcontainerd.snapshots.Snapshotter;
import io.jcontainerd.snapshots.Usage;
import io.jcontainerd.snapshots.nativesnap.NativeSnapshotter;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link MetadataSnapshotter#cleanupBackend()} over a real native snapshotter: it holds no metadata lock while
 * the backend prunes, and a Commit racing it (between its walk and its read of the records) loses nothing.
 */
class SnapshotBackendCleanupTest {
    // a thread per task: the common pool may have a single thread, which the waiting cleanup would hold
    static final java.util.concurrent.Executor THREAD = r -> Thread.ofPlatform().daemon().start(r);

    @TempDir
    Path dir;
    MetadataDb db;
    NativeSnapshotter nativeSn;
    Hooked backend;
    MetadataSnapshotter meta;

    /** The real backend, with a hook after walk and one before removeAll. */
    static final class Hooked implements Snapshotter {
        final Snapshotter d;
        volatile Runnable afterWalk = () -> {};
        volatile Runnable beforeRemoveAll = () -> {};

        Hooked(Snapshotter d) {
            this.d = d;
        }

        public Info stat(String key) throws IOException { return d.stat(key); }
        public Info update(Info info, List<String> paths) throws IOException { return d.update(info, paths); }
        public Usage usage(String key) throws IOException { return d.usage(key); }
        public List<Mount> mounts(String key) throws IOException { return d.mounts(key); }
        public List<Mount> prepare(String k, String p, Map<String, String> l) throws IOException { return d.prepare(k, p, l); }
        public List<Mount> view(String k, String p, Map<String, String> l) throws IOException { return d.view(k, p, l); }
        public void commit(String n, String k, Map<String, String> l) throws IOException { d.commit(n, k, l); }
        public void remove(String key) throws IOException { d.remove(key); }
        public void cleanup() throws IOException { d.cleanup(); }
        public void close() throws IOException { d.close(); }

        public void walk(Consumer<Info> fn, List<String> filters) throws IOException {
            d.walk(fn, filters);
            afterWalk.run();
        }

        public int removeAll(List<String> keys) throws IOException {
            beforeRemoveAll.run();
            return d.removeAll(keys);
        }
    }

    @BeforeEach
    void open() throws Exception {
        db = MetadataDb.open(dir.resolve("meta"), Clock.systemUTC());
        nativeSn = NativeSnapshotter.open(dir.resolve("native"));
        backend = new Hooked(nativeSn);
        db.addSnapshotter("native", backend);
        meta = db.snapshotters().get("native");
    }

    @AfterEach
    void close() throws Exception {
        nativeSn.close();
        db.close();
    }

    List<String> backendNames() throws IOException {
        List<String> names = new ArrayList<>();
        nativeSn.walk(i -> names.add(i.name()), List.of());
        return names;
    }

    @Test
    void metadataStaysUsableWhileTheBackendPrunes() throws Exception {
        Snapshotter ns = meta.view("ns", null);
        ns.prepare("gone", "", Map.of());
        ns.remove("gone");
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        backend.beforeRemoveAll = () -> {
            entered.countDown();
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
        CompletableFuture<Integer> cleanup = CompletableFuture.supplyAsync(meta::cleanupBackend, THREAD);
        try {
            assertThat(entered.await(10, TimeUnit.SECONDS)).isTrue();
            // a write transaction of the metadata database, and a backend create inside it, while the prune waits
            CompletableFuture<List<Mount>> prepare = CompletableFuture.supplyAsync(() -> {
                try {
                    return ns.prepare("next", "", Map.of());
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }, THREAD);
            assertThat(prepare.get(10, TimeUnit.SECONDS)).isNotEmpty();
        } finally {
            release.countDown();
        }
        assertThat(cleanup.get(10, TimeUnit.SECONDS)).isEqualTo(1);
        assertThat(backendNames()).hasSize(1).allMatch(n -> n.endsWith("/next"));
        assertThat(ns.stat("next").name()).isEqualTo("next");
    }

    @Test
    void commitBetweenWalkAndRecordReadIsNotCollected() throws Exception {
        Snapshotter ns = meta.view("ns", null);
        ns.prepare("base-active", "", Map.of());
        ns.commit("base", "base-active", Map.of());
        ns.prepare("work", "base", Map.of());
        backend.afterWalk = () -> {
            backend.afterWalk = () -> {};
            try {
                // the walk saw the active under its old backend key; the records now name the committed one
                ns.commit("done", "work", Map.of());
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        };
        assertThat(meta.cleanupBackend()).isZero();
        assertThat(backendNames()).hasSize(2).anyMatch(n -> n.endsWith("/done")).anyMatch(n -> n.endsWith("/base"));
        ns.prepare("on-done", "done", Map.of());
        assertThat(ns.stat("done").name()).isEqualTo("done");
    }
}
