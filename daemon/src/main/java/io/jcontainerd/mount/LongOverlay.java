package io.jcontainerd.mount;

import io.jcontainerd.errdefs.Errdefs;
import io.jcontainerd.sys.ErrnoException;
import io.jcontainerd.sys.Libc;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Overlay mounts whose options do not fit in one page, e.g. 128+ lower layers. containerd shortens
 * the lowerdir paths by chdir-ing into their common parent in a forked child; in the JVM the working
 * directory is process-wide, so instead:
 * <ol>
 * <li>the new mount API: fsopen("overlay"), one {@code fsconfig("lowerdir+", dir)} per layer
 *     (Linux 6.8+), fsmount, move_mount. No length limit but 256 bytes per path;</li>
 * <li>fallback (older kernels, or libc without the API): each lower dir is opened O_PATH and named
 *     {@code /proc/self/fd/N} in a classic mount(2) call, which the kernel resolves to the directory.
 *     About 18 bytes per layer, so some 200 layers fit a page.</li>
 * </ol>
 */
final class LongOverlay {
    private LongOverlay() {}

    static void mount(String source, String target, long flags, List<String> data) throws IOException {
        if (Libc.hasNewMountApi()) {
            try {
                withFsconfig(source, target, flags, data);
                return;
            } catch (ErrnoException e) {
                // ENOSYS: no new mount API; EINVAL: a kernel before "lowerdir+"
                if (e.errno() != Libc.ENOSYS && e.errno() != Libc.EINVAL) throw e;
            }
        }
        withFdPaths(source, target, flags, data);
    }

    /** Strategy 1: the new mount API, one fsconfig call per option and per lower layer. */
    static void withFsconfig(String source, String target, long flags, List<String> data) throws ErrnoException {
        int fsfd = Libc.fsopen("overlay", Libc.FSOPEN_CLOEXEC);
        try {
            if (!source.isEmpty()) Libc.fsconfig(fsfd, Libc.FSCONFIG_SET_STRING, "source", source);
            for (String o : data) {
                if (o.startsWith("lowerdir=")) {
                    for (String dir : splitLowerdirs(o.substring("lowerdir=".length()))) {
                        Libc.fsconfig(fsfd, Libc.FSCONFIG_SET_STRING, "lowerdir+", dir);
                    }
                } else {
                    int eq = o.indexOf('=');
                    if (eq < 0) Libc.fsconfig(fsfd, Libc.FSCONFIG_SET_FLAG, o, null);
                    else Libc.fsconfig(fsfd, Libc.FSCONFIG_SET_STRING, o.substring(0, eq), o.substring(eq + 1));
                }
            }
            if ((flags & Libc.MS_RDONLY) != 0) Libc.fsconfig(fsfd, Libc.FSCONFIG_SET_FLAG, "ro", null);
            if ((flags & Libc.MS_SYNCHRONOUS) != 0) Libc.fsconfig(fsfd, Libc.FSCONFIG_SET_FLAG, "sync", null);
            if ((flags & Libc.MS_DIRSYNC) != 0) Libc.fsconfig(fsfd, Libc.FSCONFIG_SET_FLAG, "dirsync", null);
            Libc.fsconfig(fsfd, Libc.FSCONFIG_CMD_CREATE, null, null);
            int mfd = Libc.fsmount(fsfd, Libc.FSMOUNT_CLOEXEC, mountAttributes(flags));
            try {
                Libc.moveMount(mfd, target);
            } finally {
                Libc.close(mfd);
            }
        } finally {
            Libc.close(fsfd);
        }
    }

    /** Strategy 2: lower dirs named through O_PATH descriptors, in a classic mount(2). */
    static void withFdPaths(String source, String target, long flags, List<String> data) throws IOException {
        List<Integer> fds = new ArrayList<>();
        try {
            List<String> opts = new ArrayList<>();
            for (String o : data) {
                if (!o.startsWith("lowerdir=")) {
                    opts.add(o);
                    continue;
                }
                StringBuilder lower = new StringBuilder("lowerdir=");
                for (String dir : splitLowerdirs(o.substring("lowerdir=".length()))) {
                    int fd = Libc.open(dir, Libc.O_PATH | Libc.O_DIRECTORY);
                    fds.add(fd);
                    if (lower.length() > "lowerdir=".length()) lower.append(':');
                    lower.append("/proc/self/fd/").append(fd);
                }
                opts.add(lower.toString());
            }
            String joined = String.join(",", opts);
            if (joined.length() >= Mounts.PAGE_SIZE) throw Errdefs.invalidArgument("mount options is too long");
            Libc.mount(source, target, "overlay", flags, joined);
        } finally {
            for (int fd : fds) Libc.close(fd);
        }
    }

    /** Lower dirs are colon-separated; a colon inside a path is escaped as {@code \:}. */
    static List<String> splitLowerdirs(String value) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '\\' && i + 1 < value.length()) {
                cur.append(value.charAt(++i));
            } else if (c == ':') {
                out.add(cur.toString());
                cur.setLength(0);
            } else {
                cur.append(c);
            }
        }
        out.add(cur.toString());
        return out;
    }

    /** mount(2) per-mount flags as fsmount attributes. */
    static int mountAttributes(long flags) {
        int a = 0;
        if ((flags & Libc.MS_RDONLY) != 0) a |= Libc.MOUNT_ATTR_RDONLY;
        if ((flags & Libc.MS_NOSUID) != 0) a |= Libc.MOUNT_ATTR_NOSUID;
        if ((flags & Libc.MS_NODEV) != 0) a |= Libc.MOUNT_ATTR_NODEV;
        if ((flags & Libc.MS_NOEXEC) != 0) a |= Libc.MOUNT_ATTR_NOEXEC;
        if ((flags & Libc.MS_NODIRATIME) != 0) a |= Libc.MOUNT_ATTR_NODIRATIME;
        if ((flags & Libc.MS_NOSYMFOLLOW) != 0) a |= Libc.MOUNT_ATTR_NOSYMFOLLOW;
        if ((flags & Libc.MS_NOATIME) != 0) a |= Libc.MOUNT_ATTR_NOATIME;
        else if ((flags & Libc.MS_STRICTATIME) != 0) a |= Libc.MOUNT_ATTR_STRICTATIME;
        return a;
    }
}
