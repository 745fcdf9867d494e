package io.jcontainerd.mount;

import io.jcontainerd.sys.ErrnoException;
import io.jcontainerd.sys.Libc;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The directory where short-lived mounts (unpack, diff) are made: root/tmpmounts. A crash can leave
 * mounts there, so the daemon unmounts and removes whatever it finds at boot.
 */
public final class TempMounts {
    private TempMounts() {}

    // set once at boot, before plugins initialize; read by Mounts.withTempMount
    private static volatile Path location;

    /** Creates the location (mode 0700), makes it the one {@link #location()} returns, and returns it. */
    public static Path setLocation(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        location = dir.toAbsolutePath().normalize();
        return dir;
    }

    /** Where temporary mounts are made (root/tmpmounts in the daemon). */
    public static Path location() {
        Path l = location;
        if (l == null) throw new IllegalStateException("temp mount location is not set");
        return l;
    }

    /**
     * Unmounts every mount below {@code dir}, deepest first, then removes the emptied directories.
     * Returns one warning per mount or directory that could not be cleaned; boot goes on regardless.
     */
    public static List<String> cleanup(Path dir) throws IOException {
        List<String> warnings = new ArrayList<>();
        List<Path> mounts = MountInfo.mountPointsUnder(dir);
        mounts.sort(Comparator.comparingInt(Path::getNameCount).reversed());
        for (Path m : mounts) {
            try {
                Libc.umount2(m.toString(), 0);
            } catch (ErrnoException e) {
                try {
                    Libc.umount2(m.toString(), Libc.MNT_DETACH);
                } catch (ErrnoException e2) {
                    warnings.add("unmount " + m + ": " + e2.getMessage());
                }
            }
        }
        try (var children = Files.list(dir)) {
            for (Path child : children.toList()) {
                try {
                    if (Files.isDirectory(child)) Files.delete(child);
                } catch (IOException e) {
                    warnings.add("remove " + child + ": " + e.getMessage());
                }
            }
        }
        return warnings;
    }
}
