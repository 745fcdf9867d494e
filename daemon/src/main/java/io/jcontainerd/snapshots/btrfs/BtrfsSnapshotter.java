package io.jcontainerd.snapshots.btrfs;

import io.jcontainerd.mount.Mount;
import io.jcontainerd.mount.MountInfo;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * containerd's btrfs snapshotter: actives are writable subvolumes in {@code active/<id>}, views
 * subvolumes in {@code view/<id>} (read-only snapshots of their parent), committed snapshots
 * read-only subvolumes in {@code snapshots/<id>}. Mounts are btrfs mounts of the device by
 * {@code subvolid}. All subvolume work goes through ioctls.
 */
public final class BtrfsSnapshotter implements Snapshotter {

    /** Thrown by {@link #open} when the root is not on btrfs: the plugin skips. */
    public static final class NotBtrfsException extends IOException {
        NotBtrfsException(String message) {
            super(message);
        }
    }

    private final Path root;
    private final String device;
    private final MetaStore store;

    private BtrfsSnapshotter(Path root, String device, MetaStore store) {
        this.root = root;
        this.device = device;
        this.store = store;
    }

    public static BtrfsSnapshotter open(Path root) throws IOException {
        Dirs.createWithMode(root, "rwx------");
        Path abs = root.toAbsolutePath().normalize();
        MountInfo.Entry mnt = MountInfo.lookup(abs.toRealPath());
        // the mount table's type, as containerd's plugin decides (no statfs(2), so no FFM linking at boot)
        if (!mnt.fsType().equals("btrfs")) {
            throw new NotBtrfsException("path " + abs + " (" + mnt.fsType()
                    + ") must be a btrfs filesystem to be used with the btrfs snapshotter");
        }
        for (String d : List.of("active", "view", "snapshots")) {
            Path p = abs.resolve(d);
            if (!Files.isDirectory(p)) {
                Files.createDirectory(p);
                Libc.chmod(p.toString(), 0755);
            }
        }
        return new BtrfsSnapshotter(abs, mnt.source(), MetaStore.open(abs.resolve("metadata.db")));
    }

    public Path root() {
        return root;
    }

    /** The block device the snapshots' mounts name. */
    public String device() {
        return device;
    }

    private Path path(Kind kind, String id) {
        String dir = switch (kind) {
            case ACTIVE -> "active";
            case VIEW -> "view";
            case COMMITTED -> "snapshots";
        };
        return root.resolve(dir).resolve(id);
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
        String[] parentId = {null};
        Tx.Stored s = store.view(tx -> {
            Tx.Stored st = tx.getInfo(key);
            if (st.info().kind() == Kind.ACTIVE && !st.info().parent().isEmpty()) parentId[0] = tx.getInfo(st.info().parent()).id();
            return st;
        });
        if (s.info().kind() != Kind.ACTIVE) return s.usage();
        Path p = path(Kind.ACTIVE, s.id());
        return parentId[0] == null ? DiskUsage.of(p) : DiskUsage.diff(path(Kind.COMMITTED, parentId[0]), p);
    }

    @Override
    public List<Mount> mounts(String key) throws IOException {
        Snapshot s = store.getSnapshot(key);
        return mounts(path(s.kind(), s.id()), s);
    }

    @Override
    public List<Mount> prepare(String key, String parent, Map<String, String> labels) throws IOException {
        return makeSnapshot(Kind.ACTIVE, key, parent, labels);
    }

    @Override
    public List<Mount> view(String key, String parent, Map<String, String> labels) throws IOException {
        return makeSnapshot(Kind.VIEW, key, parent, labels);
    }

    private List<Mount> makeSnapshot(Kind kind, String key, String parent, Map<String, String> labels) throws IOException {
        Path[] made = new Path[1];
        try {
            return store.update(tx -> {
                Snapshot s = tx.createSnapshot(kind, key, parent, labels);
                Path target = path(kind, s.id());
                // a subvolume already there is the leftover of a create whose transaction never committed
                if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) removeQuietly(target);
                if (s.parentIds().isEmpty()) {
                    BtrfsIoctl.create(target);
                } else {
                    BtrfsIoctl.snapshot(path(Kind.COMMITTED, s.parentIds().getFirst()), target, kind == Kind.VIEW);
                }
                made[0] = target;
                return mounts(target, s);
            });
        } catch (IOException | RuntimeException | Error e) {
            if (made[0] != null) removeQuietly(made[0]);
            throw e;
        }
    }

    private List<Mount> mounts(Path dir, Snapshot s) throws IOException {
        List<String> options = new ArrayList<>();
        options.add("subvolid=" + BtrfsIoctl.subvolumeId(dir));
        if (s.kind() != Kind.ACTIVE) options.add("ro");
        return List.of(Mount.of("btrfs", device, options));
    }

    @Override
    public void commit(String name, String key, Map<String, String> labels) throws IOException {
        Usage usage = usage(key);
        Path[] made = new Path[2];
        try {
            store.update(tx -> {
                String id = tx.commitActive(key, name, usage, labels);
                Path source = path(Kind.ACTIVE, id);
                Path target = path(Kind.COMMITTED, id);
                if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) removeQuietly(target);
                BtrfsIoctl.snapshot(source, target, true);
                made[0] = target;
                made[1] = source;
                return null;
            });
        } catch (IOException | RuntimeException | Error e) {
            if (made[0] != null) removeQuietly(made[0]);
            throw e;
        }
        // the committed copy is recorded: the writable subvolume is no longer needed
        removeQuietly(made[1]);
    }

    @Override
    public void remove(String key) throws IOException {
        Path[] moved = new Path[2];
        try {
            store.update(tx -> {
                Tx.Removed r = tx.remove(key);
                Path source = path(r.kind(), r.id());
                if (Files.exists(source, LinkOption.NOFOLLOW_LINKS)) {
                    // renaming a subvolume is atomic; it is destroyed once the removal committed
                    Path removed = source.resolveSibling("rm-" + r.id());
                    Files.move(source, removed, StandardCopyOption.ATOMIC_MOVE);
                    moved[0] = source;
                    moved[1] = removed;
                }
                return null;
            });
        } catch (IOException | RuntimeException | Error e) {
            if (moved[1] != null) {
                try {
                    Files.move(moved[1], moved[0], StandardCopyOption.ATOMIC_MOVE);
                } catch (IOException e2) {
                    e.addSuppressed(e2);
                }
            }
            throw e;
        }
        if (moved[1] != null) removeQuietly(moved[1]);
    }

    @Override
    public void walk(Consumer<Info> fn, List<String> filters) throws IOException {
        store.walk(fn, filters);
    }

    @Override
    public void cleanup() throws IOException {
        List<Path> orphans = store.exclusive(tx -> {
            Set<String> ids = tx.idMap().keySet();
            List<Path> out = new ArrayList<>();
            for (String d : List.of("active", "view", "snapshots")) out.addAll(Dirs.unknownEntries(root.resolve(d), ids));
            return out;
        });
        for (Path p : orphans) removeQuietly(p);
    }

    /** Destroys a subvolume (or removes a plain directory); failures are logged. */
    private static void removeQuietly(Path p) {
        try {
            if (BtrfsIoctl.isSubvolume(p)) BtrfsIoctl.delete(p);
            else Dirs.deleteRecursively(p);
        } catch (IOException e) {
            System.getLogger(BtrfsSnapshotter.class.getName()).log(System.Logger.Level.WARNING,
                    "failed to delete subvolume " + p + ": " + e.getMessage());
        }
    }

    @Override
    public void close() throws IOException {
        store.close();
    }
}
