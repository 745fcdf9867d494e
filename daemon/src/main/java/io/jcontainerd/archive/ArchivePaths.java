package io.jcontainerd.archive;

import io.jcontainerd.errdefs.Errdefs;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/** Lexical path cleaning (Go's path.Clean rules) and symlink resolution scoped to a root directory. */
public final class ArchivePaths {
    private ArchivePaths() {}

    /** Symlinks followed while resolving one path before giving up, as continuity's fs.RootPath. */
    static final int MAX_LINKS = 255;

    /**
     * Go's {@code path.Clean}: collapses slashes, removes {@code .}, resolves {@code ..} lexically (a rooted
     * path cannot climb above "/"), returns "." for an empty result.
     */
    public static String clean(String p) {
        if (p.isEmpty()) return ".";
        boolean rooted = p.charAt(0) == '/';
        List<String> out = new ArrayList<>();
        int dotdots = 0; // leading ".." of a relative path that cannot be removed
        for (String c : p.split("/")) {
            if (c.isEmpty() || c.equals(".")) continue;
            if (c.equals("..")) {
                if (out.size() > dotdots) out.removeLast();
                else if (!rooted) {
                    out.add("..");
                    dotdots++;
                }
                continue;
            }
            out.add(c);
        }
        String joined = String.join("/", out);
        if (rooted) return "/" + joined;
        return joined.isEmpty() ? "." : joined;
    }

    /** True when a cleaned relative path climbs out of its starting directory. */
    static boolean escapes(String cleaned) {
        return cleaned.equals("..") || cleaned.startsWith("../");
    }

    /**
     * Joins {@code path} to {@code root}, following every existing symlink on the way as if {@code root} were
     * "/" (absolute targets restart at root, {@code ..} stops at root), like continuity's {@code fs.RootPath}.
     * The result is always inside root; components that do not exist yet are taken literally.
     */
    public static Path rootPath(Path root, String path) throws IOException {
        Deque<String> todo = new ArrayDeque<>();
        push(todo, path);
        List<String> done = new ArrayList<>();
        int links = 0;
        while (!todo.isEmpty()) {
            String c = todo.pollFirst();
            if (c.isEmpty() || c.equals(".")) continue;
            if (c.equals("..")) {
                if (!done.isEmpty()) done.removeLast();
                continue;
            }
            done.add(c);
            Path candidate = join(root, done);
            FileStat st = FileStat.lstatOrNull(candidate);
            if (st == null || !st.isSymlink()) continue;
            if (++links > MAX_LINKS) throw Errdefs.invalidArgument("too many links resolving %s in %s", path, root);
            done.removeLast();
            String target = ArchiveSyscalls.readlink(candidate);
            if (target.startsWith("/")) done.clear();
            push(todo, target);
        }
        return join(root, done);
    }

    private static void push(Deque<String> todo, String path) {
        String[] parts = path.split("/");
        for (int i = parts.length - 1; i >= 0; i--) todo.addFirst(parts[i]);
    }

    static Path join(Path root, List<String> components) {
        if (components.isEmpty()) return root;
        return root.resolve(String.join("/", components));
    }

    /** True when {@code p} is {@code root} or below it, lexically. */
    static boolean within(Path root, Path p) {
        return p.normalize().startsWith(root);
    }
}
