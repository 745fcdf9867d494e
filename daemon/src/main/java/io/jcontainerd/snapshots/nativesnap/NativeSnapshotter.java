package io.jcontainerd.snapshots.nativesnap;

import io.jcontainerd.mount.Mount;
import io.jcontainerd.snapshots.Dirs;
import io.jcontainerd.snapshots.DiskUsage;
import io.jcontainerd.snapshots.Info;
import io.jcontainerd.snapshots.Kind;
import io.jcontainerd.snapshots.Snapshotter;
import io.jcontainerd.snapshots.Usage;
import io.jcontainerd.snapshots.storage.MetaStore;
import io.jcontainerd.snapshots.storage.Snapshot;
import io.jcontainerd.snapshots.storage.Tx;
import io.jcontainerd.sys.Libc;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * containerd's native snapshotter: every active snapshot is a full copy of its parent in
 * {@code snapshots/<id>}, mounted with a bind mount. A view of a committed snapshot binds the
 * parent's directory read-only instead of copying it.
 */
public final class NativeSnapshotter implements Snapshotter {
    private final Path root;
    private final Path snapshotsDir;
    private final MetaStore store;

    private NativeSnapshotter(Path root, MetaStore store) {
        this.root = root;
        this.snapshotsDir = root.resolve("snapshots");
        this.store = store;
    }

    public static NativeSnapshotter open(Path root) throws IOException {
        Dirs.createWithMode(root, "rwx------");
        Path snapshots = root.resolve("snapshots");
        if (!Files.isDirectory(snapshots)) Dirs.createWithMode(snapshots, "rwx------");
        return new NativeSnapshotter(root.toAbsolutePath().normalize(), MetaStore.open(root.resolve("metadata.db")));
    }

    public Path root() {
        return root;
    }

    private Path dir(String id) {
        return snapshotsDir.resolve(id);
    }

    @Override
    public Info stat(String key) throws IOException {
        return store.stat(key);
    }

    @Override
    public Info update(Info info, List<String> fieldPaths) throws IOException {
        return store.updateInfo(info, fieldPaths);
    }

    @Override
    public Usage usage(String key) throws IOException {
        Tx.Stored s = store.getInfo(key);
        if (s.info().kind() == Kind.ACTIVE) return DiskUsage.of(dir(s.id()));
        return s.usage();
    }

    @Override
    public List<Mount> mounts(String key) throws IOException {
        return mounts(store.getSnapshot(key));
    }

    @Override
    public List<Mount> prepare(String key, String parent, Map<String, String> labels) throws IOException {
        return createSnapshot(Kind.ACTIVE, key, parent, labels);
    }

    @Override
    public List<Mount> view(String key, String parent, Map<String, String> labels) throws IOException {
        return createSnapshot(Kind.VIEW, key, parent, labels);
    }

    @Override
    public void commit(String name, String key, Map<String, String> labels) throws IOException {
        store.update(tx -> tx.commitActive(key, name, id -> DiskUsage.of(dir(id)), labels));
    }

    @Override
    public void remove(String key) throws IOException {
        Path[] renamed = new Path[2];
        try {
            store.update(tx -> {
                String id = tx.remove(key).id();
                Path path = dir(id);
                // out of the way inside the transaction; deleted once it committed, restored if it did not
                if (Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
                    Path rm = snapshotsDir.resolve("rm-" + id);
                    Files.move(path, rm, StandardCopyOption.ATOMIC_MOVE);
                    renamed[0] = path;
                    renamed[1] = rm;
                }
                return null;
            });
        } catch (IOException | RuntimeException e) {
            if (renamed[1] != null) {
                try {
                    Files.move(renamed[1], renamed[0], StandardCopyOption.ATOMIC_MOVE);
                } catch (IOException e2) {
                    e.addSuppressed(e2);
                }
            }
            throw e;
        }
        if (renamed[1] != null) Dirs.removeOrphan(renamed[1]);
    }

    @Override
    public void walk(Consumer<Info> fn, List<String> filters) throws IOException {
        store.walk(fn, filters);
    }

    @Override
    public void cleanup() throws IOException {
        for (Path p : store.exclusive(tx -> Dirs.unknownEntries(snapshotsDir, tx.idMap().keySet()))) Dirs.removeOrphan(p);
    }

    private List<Mount> createSnapshot(Kind kind, String key, String parent, Map<String, String> labels) throws IOException {
        Path[] made = new Path[1];
        try {
            return store.update(tx -> {
                boolean ownDir = kind == Kind.ACTIVE || parent == null || parent.isEmpty();
                if (ownDir) {
                    made[0] = Files.createTempDirectory(snapshotsDir, "new-");
                    Libc.chmod(made[0].toString(), 0755);
                }
                Snapshot s = tx.createSnapshot(kind, key, parent, labels);
                if (ownDir) {
                    if (!s.parentIds().isEmpty()) TreeCopier.copy(dir(s.parentIds().getFirst()), made[0]);
                    Path path = dir(s.id());
                    Dirs.moveIntoPlace(made[0], path);
                    made[0] = path;
                }
                return mounts(s);
            });
        } catch (IOException | RuntimeException | Error e) {
            if (made[0] != null) {
                try {
                    Dirs.deleteRecursively(made[0]);
                } catch (IOException e2) {
                    e.addSuppressed(e2);
                }
            }
            throw e;
        }
    }

    List<Mount> mounts(Snapshot s) {
        String ro = s.kind() == Kind.VIEW ? "ro" : "rw";
        String source = s.parentIds().isEmpty() || s.kind() == Kind.ACTIVE
                ? dir(s.id()).toString() : dir(s.parentIds().getFirst()).toString();
        return List.of(Mount.of("bind", source, List.of("rbind", ro)));
    }

    @Override
    public void close() throws IOException {
        store.close();
    }
}
