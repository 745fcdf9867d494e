package io.jcontainerd.mount;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Reads the calling process's mount table (/proc/self/mountinfo). */
public final class MountInfo {
    private MountInfo() {}

    /** Mount points strictly below {@code dir}, as listed (duplicates stacked on one path appear once per mount). */
    public static List<Path> mountPointsUnder(Path dir) throws IOException {
        Path base = dir.toAbsolutePath().normalize();
        List<Path> out = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            String[] f = line.split(" ");
            if (f.length < 5) continue;
            Path mp = Path.of(unescape(f[4]));
            if (mp.startsWith(base) && !mp.equals(base)) out.add(mp);
        }
        return out;
    }

    /** One line of mountinfo: the fields the daemon uses. */
    public record Entry(int id, int parent, String majorMinor, String root, Path mountPoint, String fsType, String source, String superOptions) {}

    /** Every mount of the calling process, in mountinfo order. */
    public static List<Entry> entries() throws IOException {
        List<Entry> out = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            String[] f = line.split(" ");
            int sep = -1;
            for (int i = 6; i < f.length; i++) {
                if (f[i].equals("-")) {
                    sep = i;
                    break;
                }
            }
            if (sep < 0 || f.length < sep + 3) continue;
            out.add(new Entry(Integer.parseInt(f[0]), Integer.parseInt(f[1]), f[2], unescape(f[3]),
                    Path.of(unescape(f[4])), f[sep + 1], unescape(f[sep + 2]), sep + 3 < f.length ? f[sep + 3] : ""));
        }
        return out;
    }

    /** Whether something is mounted exactly on {@code dir}. */
    public static boolean isMountPoint(Path dir) throws IOException {
        Path p = dir.toAbsolutePath().normalize();
        for (Entry e : entries()) {
            if (e.mountPoint().equals(p)) return true;
        }
        return false;
    }

    /**
     * The mount {@code path} lives on: the entry with the longest mount point that is a parent of
     * (or equal to) the path, the last one when mounts are stacked, as containerd's mount.Lookup.
     */
    public static Entry lookup(Path path) throws IOException {
        Path p = path.toAbsolutePath().normalize();
        Entry best = null;
        for (Entry e : entries()) {
            if (p.startsWith(e.mountPoint())
                    && (best == null || e.mountPoint().toString().length() >= best.mountPoint().toString().length())) {
                best = e;
            }
        }
        if (best == null) throw new IOException("failed to find the mount info for " + p);
        return best;
    }

    /** mountinfo escapes space, tab, newline and backslash as octal (\040 etc.). */
    static String unescape(String s) {
        if (s.indexOf('\\') < 0) return s;
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length()) {
                try {
                    b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                    i += 3;
                    continue;
                } catch (NumberFormatException ignored) {
                    // not an escape: keep the backslash
                }
            }
            b.append(c);
        }
        return b.toString();
    }
}
