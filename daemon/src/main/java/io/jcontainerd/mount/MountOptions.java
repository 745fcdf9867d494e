package io.jcontainerd.mount;

import io.jcontainerd.sys.Libc;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Mount options split the way containerd splits them: known flag words become mount(2) flags (set or
 * cleared, in order), {@code loop} asks for a loop device, and everything else is filesystem data,
 * joined with commas in its original order.
 */
public record MountOptions(long flags, List<String> data, boolean loop) {

    /** Flag word → (clear?, flag bits). */
    private record Flag(boolean clear, long bits) {}

    private static final Map<String, Flag> FLAGS = Map.ofEntries(
            Map.entry("async", new Flag(true, Libc.MS_SYNCHRONOUS)),
            Map.entry("atime", new Flag(true, Libc.MS_NOATIME)),
            Map.entry("bind", new Flag(false, Libc.MS_BIND)),
            Map.entry("defaults", new Flag(false, 0)),
            Map.entry("dev", new Flag(true, Libc.MS_NODEV)),
            Map.entry("diratime", new Flag(true, Libc.MS_NODIRATIME)),
            Map.entry("dirsync", new Flag(false, Libc.MS_DIRSYNC)),
            Map.entry("exec", new Flag(true, Libc.MS_NOEXEC)),
            Map.entry("mand", new Flag(false, Libc.MS_MANDLOCK)),
            Map.entry("noatime", new Flag(false, Libc.MS_NOATIME)),
            Map.entry("nodev", new Flag(false, Libc.MS_NODEV)),
            Map.entry("nodiratime", new Flag(false, Libc.MS_NODIRATIME)),
            Map.entry("noexec", new Flag(false, Libc.MS_NOEXEC)),
            Map.entry("nomand", new Flag(true, Libc.MS_MANDLOCK)),
            Map.entry("norelatime", new Flag(true, Libc.MS_RELATIME)),
            Map.entry("nostrictatime", new Flag(true, Libc.MS_STRICTATIME)),
            Map.entry("nosuid", new Flag(false, Libc.MS_NOSUID)),
            Map.entry("nosymfollow", new Flag(false, Libc.MS_NOSYMFOLLOW)),
            Map.entry("rbind", new Flag(false, Libc.MS_BIND | Libc.MS_REC)),
            Map.entry("relatime", new Flag(false, Libc.MS_RELATIME)),
            Map.entry("remount", new Flag(false, Libc.MS_REMOUNT)),
            Map.entry("ro", new Flag(false, Libc.MS_RDONLY)),
            Map.entry("rw", new Flag(true, Libc.MS_RDONLY)),
            Map.entry("strictatime", new Flag(false, Libc.MS_STRICTATIME)),
            Map.entry("suid", new Flag(true, Libc.MS_NOSUID)),
            Map.entry("sync", new Flag(false, Libc.MS_SYNCHRONOUS)),
            Map.entry("private", new Flag(false, Libc.MS_PRIVATE)),
            Map.entry("rprivate", new Flag(false, Libc.MS_PRIVATE | Libc.MS_REC)),
            Map.entry("shared", new Flag(false, Libc.MS_SHARED)),
            Map.entry("rshared", new Flag(false, Libc.MS_SHARED | Libc.MS_REC)),
            Map.entry("slave", new Flag(false, Libc.MS_SLAVE)),
            Map.entry("rslave", new Flag(false, Libc.MS_SLAVE | Libc.MS_REC)),
            Map.entry("unbindable", new Flag(false, Libc.MS_UNBINDABLE)),
            Map.entry("runbindable", new Flag(false, Libc.MS_UNBINDABLE | Libc.MS_REC)));

    /** The propagation types; applied by a separate mount(2) call after the mount itself. */
    public static final long PROPAGATION = Libc.MS_SHARED | Libc.MS_PRIVATE | Libc.MS_SLAVE | Libc.MS_UNBINDABLE;

    public MountOptions {
        data = List.copyOf(data);
    }

    public static MountOptions parse(List<String> options) {
        long flags = 0;
        boolean loop = false;
        List<String> data = new ArrayList<>();
        for (String o : options) {
            Flag f = FLAGS.get(o);
            if (f != null && f.bits() != 0) {
                flags = f.clear() ? flags & ~f.bits() : flags | f.bits();
            } else if (o.equals("loop")) {
                loop = true;
            } else {
                // as in containerd, a word without bits ("defaults") is passed on as data
                data.add(o);
            }
        }
        return new MountOptions(flags, data, loop);
    }

    /** The data string passed to mount(2). */
    public String dataString() {
        return String.join(",", data);
    }

    public long propagation() {
        return flags & PROPAGATION;
    }

    /** The flags of the mount call itself: everything but the propagation types. */
    public long mountFlags() {
        return flags & ~PROPAGATION;
    }
}
