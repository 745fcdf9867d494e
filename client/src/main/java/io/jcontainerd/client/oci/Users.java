package io.jcontainerd.client.oci;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Users and groups of a container's root file system (/etc/passwd, /etc/group). */
final class Users {
    private Users() {}

    record Passwd(String name, long uid, long gid) {}

    private static List<String[]> entries(Spec.RootFiles root, String path) throws IOException {
        byte[] b = root.read(path);
        if (b == null) return null;
        List<String[]> out = new ArrayList<>();
        for (String line : new String(b, StandardCharsets.UTF_8).split("\n")) {
            line = line.strip();
            if (line.isEmpty() || line.startsWith("#")) continue;
            out.add(line.split(":", -1));
        }
        return out;
    }

    private static long num(String[] f, int i) {
        try {
            return f.length > i ? Long.parseLong(f[i].strip()) : 0;
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private static List<Passwd> passwd(Spec.RootFiles root) throws IOException {
        List<String[]> es = entries(root, "/etc/passwd");
        if (es == null) return List.of();
        return es.stream().map(f -> new Passwd(f[0], num(f, 2), num(f, 3))).toList();
    }

    static Passwd byUid(Spec.RootFiles root, long uid) throws IOException {
        return passwd(root).stream().filter(p -> p.uid() == uid).findFirst().orElse(null);
    }

    static Passwd byName(Spec.RootFiles root, String name) throws IOException {
        return passwd(root).stream().filter(p -> p.name().equals(name)).findFirst().orElse(null);
    }

    static Long groupByName(Spec.RootFiles root, String name) throws IOException {
        List<String[]> es = entries(root, "/etc/group");
        if (es == null) return null;
        return es.stream().filter(f -> f[0].equals(name)).map(f -> num(f, 2)).findFirst().orElse(null);
    }

    /** Gids of the groups listing {@code user} as a member (not its own group); null without /etc/group. */
    static List<Long> supplementaryGroups(Spec.RootFiles root, String user) throws IOException {
        List<String[]> es = entries(root, "/etc/group");
        if (es == null) return null;
        List<Long> out = new ArrayList<>();
        for (String[] f : es) {
            if (f[0].equals(user) || f.length < 4) continue;
            for (String m : f[3].split(",")) {
                if (m.strip().equals(user)) {
                    out.add(num(f, 2));
                    break;
                }
            }
        }
        return out;
    }
}
