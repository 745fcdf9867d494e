package io.jcontainerd.snapshots.overlay;

import io.jcontainerd.errdefs.ContainerdException;
import io.jcontainerd.errdefs.ErrorKind;
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
import io.jcontainerd.sys.Stat;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * containerd's overlayfs snapshotter. Each snapshot is {@code snapshots/<id>/fs} (its layer, the
 * overlay upperdir while active) and {@code snapshots/<id>/work} (actives only). A snapshot without
 * parents is a bind mount of its fs; a view of a single layer is a read-only bind of that layer;
 * otherwise an overlay of the parents' fs dirs, top-most first.
 */
public final class OverlaySnapshotter implements Snapshotter {

    /** The optional label carrying a snapshot's upperdir path. */
    public static final String UPPERDIR_LABEL = "containerd.io/snapshot/overlay.upperdir";

    /**
     * @param asyncRemove    leave the disk space of removed snapshots to {@link #cleanup()} (containerd's default)
     * @param upperdirLabel  add {@link #UPPERDIR_LABEL} to infos
     * @param mountOptions   extra options for overlay mounts (not bind mounts)
     */
    public record Options(boolean asyncRemove, boolean upperdirLabel, List<String> mountOptions) {
        public Options {
            mountOptions = List.copyOf(mountOptions);
        }
    }

    private final Path root;
    private final Path snapshotsDir;
    private final MetaStore store;
    private final boolean asyncRemove;
    private final boolean upperdirLabel;
    private final List<String> options;

    private OverlaySnapshotter(Path root, MetaStore store, Options o, List<String> options) {
        this.root = root;
        this.snapshotsDir = root.resolve("snapshots");
        this.store = store;
        this.asyncRemove = o.asyncRemove();
        this.upperdirLabel = o.upperdirLabel();
        this.options = List.copyOf(options);
    }

    /** Opens (creating if needed) the snapshotter at {@code root}. */
    public static OverlaySnapshotter open(Path root, Options o) throws IOException {
        Dirs.createWithMode(root, "rwx------");
        Path snapshots = root.resolve("snapshots");
        if (!Files.isDirectory(snapshots)) Dirs.createWithMode(snapshots, "rwx------");
        List<String> options = new ArrayList<>(o.mountOptions());
        if (!options.contains("userxattr") && OverlaySupport.needsUserXattr(root)) options.add("userxattr");
        if (options.stream().noneMatch(opt -> opt.equals("index") || opt.startsWith("index="))
                && OverlaySupport.supportsIndex()) {
            options.add("index=off");
        }
        MetaStore store = MetaStore.open(root.resolve("metadata.db"));
        return new OverlaySnapshotter(root.toAbsolutePath().normalize(), store, o, options);
    }

    public Path root() {
        return root;
    }

    Path upperPath(String id) {
        return snapshotsDir.resolve(id).resolve("fs");
    }

    Path workPath(String id) {
        return snapshotsDir.resolve(id).resolve("work");
    }

    @Override
    public Info stat(String key) throws IOException {
        Tx.Stored s = store.getInfo(key);
        return withUpperdir(s.info(), s.id());
    }

    @Override
    public Info update(Info info, List<String> fieldPaths) throws IOException {
        return store.update(tx -> {
            Info updated = tx.updateInfo(info, fieldPaths);
            return upperdirLabel ? withUpperdir(updated, tx.getInfo(updated.name()).id()) : updated;
        });
    }

    @Override
    public Usage usage(String key) throws IOException {
        Tx.Stored s = store.getInfo(key);
        if (s.info().kind() == Kind.ACTIVE) return DiskUsage.of(upperPath(s.id()));
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
        store.update(tx -> tx.commitActive(key, name, id -> DiskUsage.of(upperPath(id)), labels));
    }

    @Override
    public void remove(String key) throws IOException {
        List<Path> removals = store.update(tx -> {
            tx.remove(key);
            return asyncRemove ? List.<Path>of() : orphans(tx);
        });
        // the record is gone: directory removal failures are only logged
        for (Path dir : removals) Dirs.removeOrphan(dir);
    }

    /** All in one store transaction: one commit and one fdatasync for a whole collection's removals. */
    @Override
    public int removeAll(List<String> keys) throws IOException {
        int[] removed = new int[1];
        List<Path> removals = store.update(tx -> {
            for (String k : keys) {
                // Tx.remove checks before it writes, so a skipped key leaves nothing half-done
                try {
                    tx.remove(k);
                    removed[0]++;
                } catch (ContainerdException e) {
                    if (!e.is(ErrorKind.NOT_FOUND) && !e.is(ErrorKind.FAILED_PRECONDITION)) throw e;
                }
            }
            return asyncRemove || removed[0] == 0 ? List.<Path>of() : orphans(tx);
        });
        for (Path dir : removals) Dirs.removeOrphan(dir);
        return removed[0];
    }

    @Override
    public void walk(Consumer<Info> fn, List<String> filters) throws IOException {
        store.view(tx -> {
            if (!upperdirLabel) {
                tx.walkInfo(fn, filters);
                return null;
            }
            Map<String, String> ids = new HashMap<>();
            tx.idMap().forEach((id, name) -> ids.put(name, id));
            tx.walkInfo(info -> fn.accept(withUpperdir(info, ids.get(info.name()))), filters);
            return null;
        });
    }

    @Override
    public void cleanup() throws IOException {
        // a write transaction keeps creates (which build their directory inside one) out while scanning
        for (Path dir : store.exclusive(this::orphans)) Dirs.removeOrphan(dir);
    }

    private List<Path> orphans(Tx tx) throws IOException {
        return Dirs.unknownEntries(snapshotsDir, tx.idMap().keySet());
    }

    private List<Mount> createSnapshot(Kind kind, String key, String parent, Map<String, String> labels) throws IOException {
        Path[] made = new Path[1];
        try {
            return store.update(tx -> {
                made[0] = prepareDirectory(kind);
                Snapshot s = tx.createSnapshot(kind, key, parent, labels);
                if (!s.parentIds().isEmpty()) {
                    // the new layer's root takes the owner of the layer below, so the merged root keeps it
                    Stat st = Libc.lstat(upperPath(s.parentIds().getFirst()).toString());
                    Libc.lchown(made[0].resolve("fs").toString(), st.uid(), st.gid());
                }
                Path path = snapshotsDir.resolve(s.id());
                Dirs.moveIntoPlace(made[0], path);
                made[0] = path;
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

    private Path prepareDirectory(Kind kind) throws IOException {
        Path td = Files.createTempDirectory(snapshotsDir, "new-");
        Path fs = Files.createDirectory(td.resolve("fs"));
        Files.setPosixFilePermissions(fs, PosixFilePermissions.fromString("rwxr-xr-x"));
        if (kind == Kind.ACTIVE) {
            Path work = Files.createDirectory(td.resolve("work"));
            Libc.chmod(work.toString(), 0711);
        }
        return td;
    }

    List<Mount> mounts(Snapshot s) {
        List<String> parents = s.parentIds();
        if (parents.isEmpty()) {
            // no parents: overlay cannot be used, so the layer itself is bind mounted
            String ro = s.kind() == Kind.VIEW ? "ro" : "rw";
            return List.of(Mount.of("bind", upperPath(s.id()).toString(), List.of(ro, "rbind")));
        }
        List<String> opts = new ArrayList<>();
        if (s.kind() == Kind.ACTIVE) {
            opts.add("workdir=" + workPath(s.id()));
            opts.add("upperdir=" + upperPath(s.id()));
        } else if (parents.size() == 1) {
            return List.of(Mount.of("bind", upperPath(parents.getFirst()).toString(), List.of("ro", "rbind")));
        }
        StringBuilder lower = new StringBuilder("lowerdir=");
        for (int i = 0; i < parents.size(); i++) {
            if (i > 0) lower.append(':');
            lower.append(upperPath(parents.get(i)));
        }
        opts.add(lower.toString());
        opts.addAll(options);
        return List.of(Mount.of("overlay", "overlay", opts));
    }

    private Info withUpperdir(Info info, String id) {
        if (!upperdirLabel || id == null) return info;
        Map<String, String> labels = new HashMap<>(info.labels());
        labels.put(UPPERDIR_LABEL, upperPath(id).toString());
        return info.withLabels(labels);
    }

    @Override
    public void close() throws IOException {
        store.close();
    }
}
