package io.jcontainerd.snapshots;

import io.jcontainerd.mount.Mounts;
import io.jcontainerd.sys.Libc;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileSystemException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

/** Directory chores the snapshotters share: temp dirs, removal, and reclaiming orphans. */
public final class Dirs {
    private Dirs() {}

    private static final System.Logger LOG = System.getLogger(Dirs.class.getName());

    /** Creates {@code dir} (parents too) and sets its mode, e.g. "rwx------". */
    public static Path createWithMode(Path dir, String mode) throws IOException {
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString(mode));
        return dir;
    }

    /** Removes {@code p} and everything below it, never following symlinks; a missing path is fine. */
    public static void deleteRecursively(Path p) throws IOException {
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) return;
        Files.walkFileTree(p, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.deleteIfExists(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                if (e instanceof NoSuchFileException) return FileVisitResult.CONTINUE;
                throw e;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
                if (e != null && !(e instanceof NoSuchFileException)) throw e;
                Files.deleteIfExists(dir);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    /**
     * Removes a directory the store no longer knows. If something is still mounted below it (a
     * container's rootfs that was never unmounted), the mounts are detached and removal retried, as
     * containerd's overlay cleanup does. Failures are logged, not thrown: the record is gone already.
     */
    public static void removeOrphan(Path dir) {
        try {
            deleteRecursively(dir);
            return;
        } catch (IOException e) {
            boolean busy = e instanceof FileSystemException fse && fse.getReason() != null && fse.getReason().contains("busy");
            boolean mounted;
            try {
                mounted = !io.jcontainerd.mount.MountInfo.mountPointsUnder(dir).isEmpty();
            } catch (IOException e2) {
                mounted = false;
            }
            if (!busy && !mounted && !(e instanceof DirectoryNotEmptyException) && !(e instanceof AccessDeniedException)) {
                LOG.log(System.Logger.Level.WARNING, "failed to remove directory " + dir + ": " + e.getMessage());
                return;
            }
        }
        try {
            Mounts.unmountRecursive(dir, Libc.MNT_DETACH);
            deleteRecursively(dir);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "failed to remove directory " + dir + " after MNT_DETACH: " + e.getMessage());
        }
    }

    /** Entries of {@code dir} whose names are not in {@code keep}. */
    public static List<Path> unknownEntries(Path dir, java.util.Set<String> keep) throws IOException {
        List<Path> out = new ArrayList<>();
        try (var entries = Files.list(dir)) {
            for (Path p : entries.toList()) {
                if (!keep.contains(p.getFileName().toString())) out.add(p);
            }
        }
        return out;
    }

    /**
     * Moves a freshly built snapshot directory to its final name. A directory already there can only
     * be the leftover of a crashed create whose id was handed out again (the transaction that
     * recorded it never committed), so it is removed first.
     */
    public static void moveIntoPlace(Path tmp, Path target) throws IOException {
        if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) deleteRecursively(target);
        Files.move(tmp, target, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }
}
