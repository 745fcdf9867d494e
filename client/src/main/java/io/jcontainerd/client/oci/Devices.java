package io.jcontainerd.client.oci;

import io.jcontainerd.client.ClientException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/** Device nodes of the host, as containerd's client lists them for a spec's {@code linux.devices}. */
final class Devices {
    private Devices() {}

    private static final int S_IFMT = 0170000;
    private static final int S_IFBLK = 0060000;
    private static final int S_IFCHR = 0020000;
    private static final int S_IFIFO = 0010000;
    /** Directories of /dev never walked: pseudo terminals, shm, fd, mqueue, container managers' own. */
    private static final Set<String> SKIPPED_DIRS = Set.of("pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts", ".udev");

    /**
     * The device at {@code path}, or every block and character device below a directory (in name order,
     * FIFOs, symlinks, /dev/console and the skipped directories left out). A non-empty
     * {@code containerPath} replaces {@code path} in the devices' paths.
     */
    static List<Spec.Device> under(Path path, String containerPath) throws IOException {
        if (!Files.isDirectory(path)) {
            Spec.Device d = node(path);
            if (d == null) throw ClientException.invalidArgument("not a device node");
            return List.of(containerPath.isEmpty() ? d : withPath(d, containerPath));
        }
        List<Path> entries;
        try (Stream<Path> s = Files.list(path)) {
            entries = s.sorted().toList();
        }
        List<Spec.Device> out = new ArrayList<>();
        for (Path p : entries) {
            String name = p.getFileName().toString();
            String cp = containerPath.isEmpty() ? "" : containerPath + "/" + name;
            if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                if (!SKIPPED_DIRS.contains(name)) out.addAll(under(p, cp));
                continue;
            }
            if (name.equals("console")) continue;
            Spec.Device d;
            try {
                d = node(p);
            } catch (NoSuchFileException gone) {
                continue;
            }
            if (d == null || d.type().equals("p")) continue;
            out.add(cp.isEmpty() ? d : withPath(d, cp));
        }
        return out;
    }

    private static Spec.Device withPath(Spec.Device d, String path) {
        return new Spec.Device(path, d.type(), d.major(), d.minor(), d.fileMode(), d.uid(), d.gid());
    }

    /** The node at {@code p} (not followed if a symlink); null if it is no device or FIFO. */
    private static Spec.Device node(Path p) throws IOException {
        Map<String, Object> a = Files.readAttributes(p, "unix:mode,rdev,uid,gid", LinkOption.NOFOLLOW_LINKS);
        int mode = (Integer) a.get("mode");
        String type = switch (mode & S_IFMT) {
            case S_IFBLK -> "b";
            case S_IFCHR -> "c";
            case S_IFIFO -> "p";
            default -> null;
        };
        if (type == null) return null;
        long rdev = (Long) a.get("rdev");
        // glibc's major()/minor() split of a 64-bit dev_t
        long major = ((rdev >>> 8) & 0xfff) | ((rdev >>> 32) & 0xfffff000L);
        long minor = (rdev & 0xff) | ((rdev >>> 12) & 0xffffff00L);
        return new Spec.Device(p.toString(), type, major, minor, (long) (mode & ~S_IFMT),
                Integer.toUnsignedLong((Integer) a.get("uid")), Integer.toUnsignedLong((Integer) a.get("gid")));
    }
}
