package io.jcontainerd.mount;

import java.util.List;

/**
 * One mount, as containerd's {@code containerd.types.Mount}: a filesystem type, a source, an optional
 * target below the root it is mounted at (empty: the root itself), and fstab-style options.
 * Snapshotters return these; the differ and the runtime mount them.
 */
public record Mount(String type, String source, String target, List<String> options) {

    public Mount {
        type = type == null ? "" : type;
        source = source == null ? "" : source;
        target = target == null ? "" : target;
        options = options == null ? List.of() : List.copyOf(options);
    }

    public static Mount of(String type, String source, List<String> options) {
        return new Mount(type, source, "", options);
    }

    public Mount withOptions(List<String> newOptions) {
        return new Mount(type, source, target, newOptions);
    }
}
