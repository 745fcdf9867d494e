package io.jcontainerd.testing;

import io.jcontainerd.archive.ArchiveSyscalls;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * A tree described entry by entry, for comparing two trees: per relative path its type, mode, owner,
 * size, content digest or link target, modification time (seconds), the {@code security.capability}
 * xattr (the only one layer diffs carry, as containerd's), and for a hardlinked file the first path of
 * its inode (so hardlink groups must match, not inode numbers).
 */
public final class TreeListing {
    private TreeListing() {}

    public static Map<String, String> of(Path root) throws IOException {
        Map<String, String> out = new TreeMap<>();
        Map<Object, String> firstPathOfInode = new HashMap<>();
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted().toList()) {
                if (p.equals(root)) continue;
                String rel = root.relativize(p).toString();
                Map<String, Object> a = Files.readAttributes(p, "unix:mode,uid,gid,size,nlink,ino,dev,lastModifiedTime", LinkOption.NOFOLLOW_LINKS);
                int mode = (Integer) a.get("mode");
                int type = mode & 0170000;
                StringBuilder d = new StringBuilder();
                d.append(Integer.toOctalString(mode)).append(' ').append(a.get("uid")).append(':').append(a.get("gid"));
                d.append(" mtime=").append(((FileTime) a.get("lastModifiedTime")).toMillis() / 1000);
                if (type == 0100000) {
                    d.append(" size=").append(a.get("size")).append(' ').append(ContentUpload.sha256(Files.readAllBytes(p)));
                    if ((Integer) a.get("nlink") > 1) {
                        Object inode = a.get("dev") + ":" + a.get("ino");
                        String first = firstPathOfInode.putIfAbsent(inode, rel);
                        d.append(" linked-to=").append(first == null ? rel : first);
                    }
                } else if (type == 0120000) {
                    d.append(" -> ").append(Files.readSymbolicLink(p));
                }
                byte[] cap = type == 0120000 ? null : ArchiveSyscalls.lgetxattr(p, "security.capability");
                if (cap != null) d.append(" cap=").append(HexFormat.of().formatHex(cap));
                out.put(rel, d.toString());
            }
        }
        return out;
    }
}
