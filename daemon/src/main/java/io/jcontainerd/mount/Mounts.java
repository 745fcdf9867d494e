package io.jcontainerd.mount;

import io.jcontainerd.errdefs.Errdefs;
import io.jcontainerd.sys.ErrnoException;
import io.jcontainerd.sys.Libc;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Mounting and unmounting {@link Mount}s with containerd's semantics: options parsed into flags and
 * data ({@link MountOptions}), propagation applied by a second call, read-only binds remounted
 * read-only, unmounts retried while busy. Overlays whose options exceed what one mount(2) call
 * accepts go through {@link LongOverlay}.
 */
public final class Mounts {
    private Mounts() {}

    /** The size mount(2) copies its data argument into (one page). */
    static final int PAGE_SIZE = 4096;
    private static final int BUSY_RETRIES = 50;
    private static final long BUSY_SLEEP_MILLIS = 50;

    /** Work done while mounts are in place; may throw one checked exception type of its own. */
    @FunctionalInterface
    public interface MountedWork<T, E extends Exception> {
        T run(Path root) throws E;
    }

    /** Mounts {@code m} on {@code target}, which must exist. */
    public static void mount(Mount m, Path target) throws IOException {
        if (m.type().startsWith("fuse.") || m.type().startsWith("fuse3.")) {
            throw Errdefs.notImplemented("mount type %s needs a mount helper, which is not supported", m.type());
        }
        MountOptions o = MountOptions.parse(m.options());
        if (o.loop()) throw Errdefs.notImplemented("loop mounts are not supported (mount of %s)", m.source());
        String t = target.toString();
        long flags = o.flags();
        long oflags = o.mountFlags();
        String data = o.dataString();
        if ((flags & Libc.MS_REMOUNT) == 0 || !data.isEmpty()) {
            if (m.type().equals("overlay") && optionsSize(m.options()) >= PAGE_SIZE - 512) {
                LongOverlay.mount(m.source(), t, oflags, o.data());
            } else {
                if (data.length() > PAGE_SIZE) throw Errdefs.invalidArgument("mount options is too long");
                Libc.mount(m.source(), t, m.type(), oflags, data);
            }
        }
        if (o.propagation() != 0) {
            long pflags = MountOptions.PROPAGATION | Libc.MS_REC | Libc.MS_SILENT;
            Libc.mount("", t, "", flags & pflags, null);
        }
        long bindRo = Libc.MS_BIND | Libc.MS_RDONLY;
        if ((oflags & bindRo) == bindRo) {
            // a bind mount ignores MS_RDONLY on creation: read-only takes a remount
            Libc.mount("", t, "", oflags | Libc.MS_REMOUNT, null);
        }
    }

    /**
     * Mounts each of {@code mounts} in order on {@code root} (or on its {@code target} below root). If
     * one fails, those already mounted are unmounted again before the error is thrown.
     */
    public static void mountAll(List<Mount> mounts, Path root) throws IOException {
        List<Path> done = new ArrayList<>();
        try {
            for (Mount m : mounts) {
                Path target = m.target().isEmpty() ? root : resolveBelow(root, m.target());
                mount(m, target);
                done.add(target);
            }
        } catch (IOException | RuntimeException e) {
            for (Path p : done.reversed()) {
                try {
                    unmount(p, Libc.MNT_DETACH);
                } catch (IOException | RuntimeException e2) {
                    e.addSuppressed(e2);
                }
            }
            throw e;
        }
    }

    /** A mount target below root: absolute or relative, never outside root. */
    static Path resolveBelow(Path root, String target) {
        Path p = root.resolve(target.startsWith("/") ? target.substring(1) : target).normalize();
        if (!p.startsWith(root.normalize())) throw Errdefs.invalidArgument("mount target %s escapes %s", target, root);
        return p;
    }

    /**
     * Unmounts {@code target} once. EINVAL (not a mount point) is not an error. EBUSY is retried for
     * a while; if the mount stays busy it is detached (MNT_DETACH) unless that was already asked for.
     */
    public static void unmount(Path target, int flags) throws IOException {
        unmountOnce(target.toString(), flags);
    }

    /** Unmounts everything stacked on {@code target} until nothing is left; a missing path is fine. */
    public static void unmountAll(Path target, int flags) throws IOException {
        if (!Files.exists(target, LinkOption.NOFOLLOW_LINKS)) return;
        String t = target.toString();
        while (unmountOnce(t, flags)) {
            // stacked mounts come off one at a time
        }
    }

    /** Unmounts every mount at or below {@code dir}, deepest first. */
    public static void unmountRecursive(Path dir, int flags) throws IOException {
        Path base = dir.toAbsolutePath().normalize();
        List<Path> mounts = new ArrayList<>(MountInfo.mountPointsUnder(base));
        if (MountInfo.isMountPoint(base)) mounts.add(base);
        mounts.sort(Comparator.comparingInt(Path::getNameCount).reversed());
        for (Path m : mounts) {
            try {
                unmountOnce(m.toString(), flags);
            } catch (ErrnoException e) {
                if (e.errno() != Libc.ENOENT) throw e;
            }
        }
    }

    /** Returns false when nothing was mounted there (EINVAL). */
    private static boolean unmountOnce(String target, int flags) throws ErrnoException {
        ErrnoException busy = null;
        for (int i = 0; i < BUSY_RETRIES; i++) {
            try {
                Libc.umount2(target, flags);
                return true;
            } catch (ErrnoException e) {
                if (e.errno() == Libc.EINVAL) return false;
                if (e.errno() != Libc.EBUSY) throw e;
                busy = e;
            }
            try {
                Thread.sleep(BUSY_SLEEP_MILLIS);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        if ((flags & Libc.MNT_DETACH) == 0) {
            try {
                Libc.umount2(target, flags | Libc.MNT_DETACH);
                return true;
            } catch (ErrnoException e) {
                if (e.errno() == Libc.EINVAL) return false;
                throw e;
            }
        }
        throw busy;
    }

    /**
     * Mounts {@code mounts} on a fresh directory under the temp mount location (root/tmpmounts), runs
     * {@code work} on it, then unmounts and removes the directory whatever happened.
     */
    public static <T, E extends Exception> T withTempMount(List<Mount> mounts, MountedWork<T, E> work) throws IOException, E {
        Path root = Files.createTempDirectory(TempMounts.location(), "containerd-mount");
        Throwable failure = null;
        try {
            mountAll(mounts, root);
            return work.run(root);
        } catch (Throwable t) {
            failure = t;
            throw t;
        } finally {
            try {
                unmountAll(root, 0);
                Files.deleteIfExists(root);
            } catch (IOException | RuntimeException e) {
                if (failure != null) failure.addSuppressed(e);
                else throw e;
            }
        }
    }

    /** {@link #withTempMount} of the mounts made read-only ({@link #readonly}). */
    public static <T, E extends Exception> T withReadonlyTempMount(List<Mount> mounts, MountedWork<T, E> work) throws IOException, E {
        return withTempMount(readonly(mounts), work);
    }

    /**
     * The mounts made read-only, as containerd does for temporary read-only mounts: an overlay loses
     * its upperdir and workdir (the upper becomes the top lower layer); others get {@code ro} in place
     * of any {@code rw}/{@code ro}.
     */
    public static List<Mount> readonly(List<Mount> mounts) {
        List<Mount> out = new ArrayList<>(mounts.size());
        for (Mount m : mounts) {
            if (m.type().equals("overlay")) {
                out.add(m.withOptions(readonlyOverlay(m.options())));
                continue;
            }
            List<String> opts = new ArrayList<>();
            for (String o : m.options()) {
                if (!o.equals("rw") && !o.equals("ro")) opts.add(o);
            }
            opts.add("ro");
            out.add(m.withOptions(opts));
        }
        return out;
    }

    private static List<String> readonlyOverlay(List<String> options) {
        List<String> out = new ArrayList<>();
        String upper = null;
        for (String o : options) {
            if (o.startsWith("upperdir=")) upper = o.substring("upperdir=".length());
            else if (!o.startsWith("workdir=")) out.add(o);
        }
        if (upper != null) {
            for (int i = 0; i < out.size(); i++) {
                if (out.get(i).startsWith("lowerdir=")) {
                    out.set(i, "lowerdir=" + upper + ":" + out.get(i).substring("lowerdir=".length()));
                }
            }
        }
        return out;
    }

    static int optionsSize(List<String> options) {
        int n = 0;
        for (String o : options) n += o.length();
        return n;
    }
}
