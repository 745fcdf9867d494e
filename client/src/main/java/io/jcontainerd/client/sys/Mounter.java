package io.jcontainerd.client.sys;

import io.jcontainerd.client.Mount;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Mounting what snapshotters return, on the client side, with containerd's option semantics:
 * options naming a mount flag set or clear it; anything else is file system data; a read-only bind
 * is remounted read-only.
 */
public final class Mounter {
    private Mounter() {}

    /** Flag options: {true = clears, flag}. */
    private record Flag(boolean clear, long flag) {}

    private static final Map<String, Flag> FLAGS = Map.ofEntries(
            Map.entry("async", new Flag(true, Native.MS_SYNCHRONOUS)),
            Map.entry("atime", new Flag(true, Native.MS_NOATIME)),
            Map.entry("bind", new Flag(false, Native.MS_BIND)),
            Map.entry("defaults", new Flag(false, 0)),
            Map.entry("dev", new Flag(true, Native.MS_NODEV)),
            Map.entry("diratime", new Flag(true, Native.MS_NODIRATIME)),
            Map.entry("dirsync", new Flag(false, Native.MS_DIRSYNC)),
            Map.entry("exec", new Flag(true, Native.MS_NOEXEC)),
            Map.entry("mand", new Flag(false, Native.MS_MANDLOCK)),
            Map.entry("noatime", new Flag(false, Native.MS_NOATIME)),
            Map.entry("nodev", new Flag(false, Native.MS_NODEV)),
            Map.entry("nodiratime", new Flag(false, Native.MS_NODIRATIME)),
            Map.entry("noexec", new Flag(false, Native.MS_NOEXEC)),
            Map.entry("nomand", new Flag(true, Native.MS_MANDLOCK)),
            Map.entry("norelatime", new Flag(true, Native.MS_RELATIME)),
            Map.entry("nostrictatime", new Flag(true, Native.MS_STRICTATIME)),
            Map.entry("nosuid", new Flag(false, Native.MS_NOSUID)),
            Map.entry("rbind", new Flag(false, Native.MS_BIND | Native.MS_REC)),
            Map.entry("relatime", new Flag(false, Native.MS_RELATIME)),
            Map.entry("remount", new Flag(false, Native.MS_REMOUNT)),
            Map.entry("ro", new Flag(false, Native.MS_RDONLY)),
            Map.entry("rw", new Flag(true, Native.MS_RDONLY)),
            Map.entry("strictatime", new Flag(false, Native.MS_STRICTATIME)),
            Map.entry("suid", new Flag(true, Native.MS_NOSUID)),
            Map.entry("sync", new Flag(false, Native.MS_SYNCHRONOUS)));

    /** Mounts each in order on {@code target}; on failure, unmounts what was mounted. */
    public static void mountAll(List<Mount> mounts, Path target) throws IOException {
        int done = 0;
        try {
            for (Mount m : mounts) {
                mount(m, target);
                done++;
            }
        } catch (IOException | RuntimeException e) {
            for (int i = 0; i < done; i++) {
                try {
                    Native.umount2(target.toString(), 0);
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
    }

    public static void mount(Mount m, Path target) throws IOException {
        long flags = 0;
        List<String> data = new ArrayList<>();
        for (String o : m.options()) {
            Flag f = FLAGS.get(o);
            if (f != null && f.flag() != 0) flags = f.clear() ? flags & ~f.flag() : flags | f.flag();
            else if (f == null) data.add(o);
        }
        String d = String.join(",", data);
        if (d.length() >= 4096) throw new IOException("mount options too long for " + target + " (" + d.length() + " bytes)");
        long ptypes = Native.MS_SHARED | Native.MS_PRIVATE | Native.MS_SLAVE | Native.MS_UNBINDABLE;
        long oflags = flags & ~ptypes;
        if ((flags & Native.MS_REMOUNT) == 0 || !d.isEmpty()) {
            Native.mount(m.source(), target.toString(), m.type(), oflags, d.isEmpty() ? null : d);
        }
        long bro = Native.MS_BIND | Native.MS_RDONLY;
        if ((oflags & bro) == bro) Native.mount("", target.toString(), null, oflags | Native.MS_REMOUNT, null);
    }

    /** Unmounts everything stacked on {@code target} (nothing mounted is fine). */
    public static void unmountAll(Path target) throws IOException {
        for (int i = 0; i < 64; i++) {
            try {
                Native.umount2(target.toString(), 0);
            } catch (Native.ErrnoException e) {
                if (e.errno() == Native.EINVAL || e.errno() == Native.ENOENT) return;
                throw e;
            }
        }
        throw new IOException("unmount " + target + ": still mounted after 64 unmounts");
    }
}
