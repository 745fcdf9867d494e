package io.jcontainerd.snapshots.overlay;

import io.jcontainerd.mount.Mount;
import io.jcontainerd.mount.MountCheck;
import io.jcontainerd.snapshots.Dirs;
import io.jcontainerd.sys.Libc;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Probes of what the kernel's overlayfs offers on a given root. */
final class OverlaySupport {
    private OverlaySupport() {}

    private static final long TMPFS_MAGIC = 0x01021994L;

    /**
     * Null when an overlay with two lower dirs, an upper and a work dir mounts under {@code root},
     * else why not.
     */
    static String unsupportedReason(Path root) {
        Path td;
        try {
            Dirs.createWithMode(root, "rwx------");
            // named without Files.createTempDirectory, whose SecureRandom costs ~30 ms at boot
            td = Files.createDirectory(root.resolve("multiple-lowerdir-check-" + ProcessHandle.current().pid() + "-" + System.nanoTime()));
        } catch (IOException | RuntimeException e) {
            return "failed to mount overlay: " + e.getMessage();
        }
        Runnable removeCheckDir = () -> {
            try {
                Dirs.deleteRecursively(td);
            } catch (IOException ignored) {
                // a leftover check directory is harmless
            }
        };
        try {
            for (String d : List.of("lower1", "lower2", "upper", "work", "merged")) Files.createDirectory(td.resolve(d));
        } catch (IOException | RuntimeException e) {
            removeCheckDir.run();
            return "failed to mount overlay: " + e.getMessage();
        }
        // a real mount, in a throwaway mount namespace (MountCheck: no FFM linking at boot); the check
        // directory goes once that namespace is gone
        String failure = MountCheck.tryMount(Mount.of("overlay", "overlay", List.of("lowerdir=" + td.resolve("lower2")
                + ":" + td.resolve("lower1") + ",upperdir=" + td.resolve("upper") + ",workdir=" + td.resolve("work"))),
                td.resolve("merged"), removeCheckDir);
        return failure == null ? null : "failed to mount overlay: " + failure;
    }

    /** "index=off" is passed only where the kernel knows the index feature. */
    static boolean supportsIndex() {
        return Files.exists(Path.of("/sys/module/overlay/parameters/index"));
    }

    /**
     * Inside a user namespace overlay needs "userxattr" (Linux 5.11+), except on tmpfs; in the
     * initial namespace it never does.
     */
    static boolean needsUserXattr(Path root) {
        if (!inUserNamespace()) return false;
        try {
            if (Libc.statfsType(root.toString()) == TMPFS_MAGIC) return false;
        } catch (IOException e) {
            return false;
        }
        String[] v = System.getProperty("os.version", "0.0").split("[.-]");
        try {
            int major = Integer.parseInt(v[0]);
            int minor = v.length > 1 ? Integer.parseInt(v[1]) : 0;
            return major > 5 || (major == 5 && minor >= 11);
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private static boolean inUserNamespace() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/uid_map"))) {
                String[] f = line.trim().split("\\s+");
                if (f.length == 3 && f[0].equals("0") && f[1].equals("0") && f[2].equals("4294967295")) return false;
            }
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
