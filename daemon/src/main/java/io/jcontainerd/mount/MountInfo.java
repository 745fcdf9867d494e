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
