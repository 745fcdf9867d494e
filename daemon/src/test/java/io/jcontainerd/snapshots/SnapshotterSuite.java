package io.jcontainerd.snapshots;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jcontainerd.errdefs.ContainerdException;
import io.jcontainerd.errdefs.ErrorKind;
import io.jcontainerd.mount.Mount;
import io.jcontainerd.mount.MountInfo;
import io.jcontainerd.mount.Mounts;
import io.jcontainerd.mount.TempMounts;
import io.jcontainerd.sys.Libc;
import io.jcontainerd.sys.Stat;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The snapshot model and file semantics every snapshotter must share, run against each backend by
 * a subclass. Everything is mounted for real; each test unmounts and deletes what it made.
 */
public abstract class SnapshotterSuite {

    protected Path work;
    protected Snapshotter sn;

    /** A fresh directory the backend can use as its root (btrfs: on the loop volume). */
    protected abstract Path newRootBase() throws IOException;

    protected abstract Snapshotter open(Path root) throws IOException;

    /** Where the snapshotter keeps the snapshot's own files, for cleanup checks. */
    protected abstract long countSnapshotDirs(Path root) throws IOException;

    protected Path root;

    @BeforeEach
    void setUp() throws IOException {
        work = newRootBase();
        TempMounts.setLocation(work.resolve("tmpmounts"));
        root = work.resolve("snapshotter");
        sn = open(root);
    }

    @AfterEach
    void tearDown() throws Exception {
        try {
            if (sn != null) sn.close();
        } finally {
            Mounts.unmountRecursive(work, Libc.MNT_DETACH);
            deleteTree(work);
        }
    }

    /** Removes the test's tree; btrfs subclasses first destroy subvolumes. */
    protected void deleteTree(Path dir) throws IOException {
        Dirs.deleteRecursively(dir);
    }

    // ---- helpers ----

    static void assertKind(ThrowingCallable call, ErrorKind kind) {
        assertThatThrownBy(call).isInstanceOf(ContainerdException.class)
                .satisfies(e -> assertThat(((ContainerdException) e).kind()).as(e.getMessage()).isEqualTo(kind));
    }

    @FunctionalInterface
    interface InRoot {
        void run(Path root) throws Exception;
    }

    static void inMount(List<Mount> mounts, InRoot fn) throws Exception {
        Mounts.withTempMount(mounts, r -> {
            fn.run(r);
            return null;
        });
        assertThat(MountInfo.mountPointsUnder(TempMounts.location())).isEmpty();
    }

    /** Prepares key on parent, lets fn change its files, commits it as name. */
    void layer(String name, String parent, InRoot fn) throws Exception {
        String key = name + "-active";
        inMount(sn.prepare(key, parent, Map.of()), fn);
        sn.commit(name, key, Map.of());
    }

    static void write(Path p, String content) throws IOException {
        Files.createDirectories(p.getParent());
        Files.writeString(p, content);
    }

    // ---- the model ----

    @Test
    void prepareCommitViewAndStat() throws Exception {
        List<Mount> m = sn.prepare("a", "", Map.of("l1", "v1"));
        assertThat(m).hasSize(1);
        Info active = sn.stat("a");
        assertThat(active.kind()).isEqualTo(Kind.ACTIVE);
        assertThat(active.parent()).isEmpty();
        assertThat(active.labels()).containsEntry("l1", "v1");
        assertThat(sn.mounts("a")).isEqualTo(m);
        inMount(m, r -> write(r.resolve("hello"), "world"));

        sn.commit("base", "a", Map.of("c", "1"));
        assertKind(() -> sn.stat("a"), ErrorKind.NOT_FOUND);
        Info base = sn.stat("base");
        assertThat(base.kind()).isEqualTo(Kind.COMMITTED);
        assertThat(base.labels()).containsExactly(Map.entry("c", "1"));
        assertThat(base.created()).isEqualTo(base.updated());

        List<Mount> view = sn.view("v", "base", Map.of());
        assertThat(sn.stat("v").parent()).isEqualTo("base");
        assertThat(sn.stat("v").kind()).isEqualTo(Kind.VIEW);
        inMount(view, r -> {
            assertThat(r.resolve("hello")).hasContent("world");
            assertThatThrownBy(() -> Files.writeString(r.resolve("new"), "x")).isInstanceOf(IOException.class);
        });

        List<Mount> child = sn.prepare("b", "base", Map.of());
        inMount(child, r -> {
            assertThat(r.resolve("hello")).hasContent("world");
            write(r.resolve("second"), "2");
        });
        inMount(sn.mounts("b"), r -> assertThat(r.resolve("second")).hasContent("2"));
    }

    @Test
    void errorsHaveContainerdKinds() throws Exception {
        sn.prepare("a", "", Map.of());
        assertKind(() -> sn.prepare("a", "", Map.of()), ErrorKind.ALREADY_EXISTS);
        assertKind(() -> sn.view("a", "", Map.of()), ErrorKind.ALREADY_EXISTS);
        assertKind(() -> sn.prepare("x", "missing", Map.of()), ErrorKind.NOT_FOUND);
        assertKind(() -> sn.prepare("x", "a", Map.of()), ErrorKind.INVALID_ARGUMENT);
        assertKind(() -> sn.commit("c", "missing", Map.of()), ErrorKind.NOT_FOUND);
        assertKind(() -> sn.stat("missing"), ErrorKind.NOT_FOUND);
        assertKind(() -> sn.usage("missing"), ErrorKind.NOT_FOUND);
        assertKind(() -> sn.mounts("missing"), ErrorKind.NOT_FOUND);
        assertKind(() -> sn.remove("missing"), ErrorKind.NOT_FOUND);

        sn.commit("c", "a", Map.of());
        assertKind(() -> sn.mounts("c"), ErrorKind.FAILED_PRECONDITION);
        sn.prepare("a2", "c", Map.of());
        assertKind(() -> sn.commit("c", "a2", Map.of()), ErrorKind.ALREADY_EXISTS);
        assertKind(() -> sn.remove("c"), ErrorKind.FAILED_PRECONDITION);
        sn.view("v", "c", Map.of());
        assertKind(() -> sn.commit("c2", "v", Map.of()), ErrorKind.FAILED_PRECONDITION);
        assertKind(() -> sn.update(Info.forUpdate("c", Map.of()), List.of("parent")), ErrorKind.INVALID_ARGUMENT);
        assertKind(() -> sn.update(Info.forUpdate("missing", Map.of()), List.of()), ErrorKind.NOT_FOUND);

        // a failed prepare leaves nothing behind
        long dirs = countSnapshotDirs(root);
        assertKind(() -> sn.prepare("a2", "c", Map.of()), ErrorKind.ALREADY_EXISTS);
        assertThat(countSnapshotDirs(root)).isEqualTo(dirs);

        sn.remove("a2");
        sn.remove("v");
        sn.remove("c");
        List<String> names = new ArrayList<>();
        sn.walk(i -> names.add(i.name()), List.of());
        assertThat(names).isEmpty();
        // keys are free again after removal
        sn.prepare("a2", "", Map.of());
    }

    @Test
    void updateLabelsByFieldPath() throws Exception {
        sn.prepare("a", "", Map.of("keep", "1", "change", "old", "drop", "x"));
        Info u = sn.update(Info.forUpdate("a", Map.of("change", "new", "add", "y")), List.of("labels.change", "labels.drop", "labels.add"));
        assertThat(u.labels()).containsOnly(Map.entry("keep", "1"), Map.entry("change", "new"), Map.entry("add", "y"));
        assertThat(u.kind()).isEqualTo(Kind.ACTIVE);
        assertThat(u.updated()).isAfterOrEqualTo(u.created());
        assertThat(sn.stat("a").labels()).isEqualTo(u.labels());

        assertThat(sn.update(Info.forUpdate("a", Map.of("only", "1")), List.of()).labels()).containsOnly(Map.entry("only", "1"));
        assertThat(sn.update(Info.forUpdate("a", Map.of("z", "2")), List.of("labels")).labels()).containsOnly(Map.entry("z", "2"));
        assertThat(sn.update(Info.forUpdate("a", Map.of("z", "")), List.of("labels.z")).labels()).isEmpty();
    }

    @Test
    void walkInNameOrderWithFilters() throws Exception {
        sn.prepare("z-active", "", Map.of("team", "a"));
        layer("base", "", r -> { });
        sn.view("m-view", "base", Map.of("team", "b"));
        sn.prepare("c-active", "base", Map.of());

        List<String> all = new ArrayList<>();
        sn.walk(i -> all.add(i.name()), List.of());
        assertThat(all).containsExactly("base", "c-active", "m-view", "z-active");

        List<String> got = new ArrayList<>();
        sn.walk(i -> got.add(i.name()), List.of("kind==active"));
        assertThat(got).containsExactly("c-active", "z-active");
        got.clear();
        sn.walk(i -> got.add(i.name()), List.of("parent==base"));
        assertThat(got).containsExactly("c-active", "m-view");
        got.clear();
        sn.walk(i -> got.add(i.name()), List.of("labels.team==a", "kind==committed"));
        assertThat(got).containsExactly("base", "z-active");
        got.clear();
        sn.walk(i -> got.add(i.name()), List.of("labels.team"));
        assertThat(got).containsExactly("m-view", "z-active");
        assertKind(() -> sn.walk(i -> { }, List.of("name==")), ErrorKind.INVALID_ARGUMENT);
    }

    @Test
    void usageOfActiveIsWalkedAndOfCommittedIsRecorded() throws Exception {
        inMount(sn.prepare("a", "", Map.of()), r -> Files.write(r.resolve("big"), new byte[1 << 20]));
        Usage u = sn.usage("a");
        assertThat(u.size()).isGreaterThanOrEqualTo(1 << 20);
        assertThat(u.inodes()).isEqualTo(2); // the root and the file
        sn.commit("base", "a", Map.of());
        assertThat(sn.usage("base")).isEqualTo(u);

        inMount(sn.prepare("b", "base", Map.of()), r -> write(r.resolve("small"), "x"));
        Usage child = sn.usage("b");
        if (usageIsOwnChangesOnly()) assertThat(child.size()).isLessThan(1 << 20);
        else assertThat(child.size()).isGreaterThan(1 << 20);
        assertThat(child.inodes()).isGreaterThanOrEqualTo(1);
    }

    @Test
    void filesAcrossLayers() throws Exception {
        layer("l1", "", r -> {
            write(r.resolve("etc/config"), "v1");
            write(r.resolve("dir/sub/file"), "gone soon");
            write(r.resolve("deleted"), "bye");
            write(r.resolve("owned"), "o");
        });
        layer("l2", "l1", r -> {
            write(r.resolve("etc/config"), "v2");
            Dirs.deleteRecursively(r.resolve("dir"));
            Files.delete(r.resolve("deleted"));
            Libc.lchown(r.resolve("owned").toString(), 1234, 5678);
            Libc.chmod(r.resolve("owned").toString(), 04750);
            Libc.chmod(r.resolve("etc").toString(), 0700);
        });
        // a directory of the same name comes back empty: the old contents must not reappear
        layer("l3", "l2", r -> Files.createDirectory(r.resolve("dir")));

        InRoot check = r -> {
            assertThat(r.resolve("etc/config")).hasContent("v2");
            assertThat(r.resolve("deleted")).doesNotExist();
            assertThat(r.resolve("dir")).isEmptyDirectory();
            Stat owned = Libc.lstat(r.resolve("owned").toString());
            assertThat(owned.uid()).isEqualTo(1234);
            assertThat(owned.gid()).isEqualTo(5678);
            assertThat(owned.permissions()).isEqualTo(04750);
            assertThat(Libc.lstat(r.resolve("etc").toString()).permissions()).isEqualTo(0700);
        };
        inMount(sn.view("v3", "l3", Map.of()), check);
        inMount(sn.prepare("a4", "l3", Map.of()), check);
        // the lower layers are untouched
        inMount(sn.view("v1", "l1", Map.of()), r -> {
            assertThat(r.resolve("etc/config")).hasContent("v1");
            assertThat(r.resolve("dir/sub/file")).hasContent("gone soon");
            assertThat(r.resolve("deleted")).exists();
        });
    }

    @Test
    void manyLayersMount() throws Exception {
        int layers = 130;
        String parent = "";
        for (int i = 0; i < layers; i++) {
            int n = i;
            String name = "layer-" + i;
            layer(name, parent, r -> write(r.resolve("f" + n), Integer.toString(n)));
            parent = name;
        }
        InRoot allThere = r -> {
            for (int i = 0; i < layers; i++) assertThat(r.resolve("f" + i)).hasContent(Integer.toString(i));
        };
        inMount(sn.view("top-view", parent, Map.of()), allThere);
        inMount(sn.prepare("top", parent, Map.of()), r -> {
            allThere.run(r);
            write(r.resolve("mine"), "m");
        });
        inMount(sn.mounts("top"), r -> assertThat(r.resolve("mine")).hasContent("m"));
        // removing from the top down works, children first
        assertKind(() -> sn.remove("layer-0"), ErrorKind.FAILED_PRECONDITION);
        sn.remove("top");
        sn.remove("top-view");
        for (int i = layers - 1; i >= 0; i--) sn.remove("layer-" + i);
        sn.cleanup();
        assertThat(countSnapshotDirs(root)).isZero();
    }

    @Test
    void cleanupRemovesWhatTheStoreDoesNotKnow() throws Exception {
        layer("base", "", r -> write(r.resolve("f"), "x"));
        sn.prepare("keep", "base", Map.of());
        sn.prepare("gone", "base", Map.of());
        long before = countSnapshotDirs(root);
        sn.remove("gone");
        makeOrphan(root);
        sn.cleanup();
        assertThat(countSnapshotDirs(root)).isEqualTo(before - 1);
        inMount(sn.mounts("keep"), r -> assertThat(r.resolve("f")).hasContent("x"));
    }

    @Test
    void removeAllSkipsMissingAndParentsStillInUse() throws Exception {
        layer("base", "", r -> write(r.resolve("f"), "x"));
        layer("mid", "base", r -> write(r.resolve("g"), "y"));
        sn.prepare("leaf", "mid", Map.of());
        sn.prepare("keep", "base", Map.of());
        long before = countSnapshotDirs(root);
        // children first, as the collector orders them; "base" still has "keep", "nope" never existed
        assertThat(sn.removeAll(List.of("leaf", "nope", "mid", "base"))).isEqualTo(2);
        List<String> left = new java.util.ArrayList<>();
        sn.walk(i -> left.add(i.name()), List.of());
        assertThat(left).containsExactly("base", "keep");
        sn.cleanup();
        assertThat(countSnapshotDirs(root)).isEqualTo(before - 2);
        inMount(sn.mounts("keep"), r -> assertThat(r.resolve("f")).hasContent("x"));
    }

    /** Whether an active's usage counts only its own changes (not native, whose snapshots are full copies). */
    protected boolean usageIsOwnChangesOnly() {
        return true;
    }

    /** Leaves what a crash between creating a directory and committing the store would leave. */
    protected abstract void makeOrphan(Path root) throws IOException;

    @Test
    void stateSurvivesReopen() throws Exception {
        layer("base", "", r -> write(r.resolve("f"), "x"));
        List<Mount> m = sn.prepare("a", "base", Map.of("k", "v"));
        sn.close();
        sn = open(root);
        assertThat(sn.stat("a").labels()).containsEntry("k", "v");
        assertThat(sn.mounts("a")).isEqualTo(m);
        sn.remove("a");
        List<Mount> again = sn.prepare("a", "base", Map.of());
        assertThat(again).isNotEqualTo(m); // ids are never reused
    }
}
