package io.jcontainerd.diff;

import io.jcontainerd.errdefs.Errdefs;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Where to apply a layer when the target is a single overlay mount (containerd's {@code getOverlayPath}):
 * straight into its upperdir, with whiteouts translated for overlay and the lowerdirs as parents.
 *
 * @param upper  the overlay upperdir
 * @param lowers the lowerdirs, nearest first
 */
public record OverlayTarget(Path upper, List<Path> lowers) {
    /** Parses overlay mount options; InvalidArgument when there is no upperdir (apply then uses a temp mount). */
    public static OverlayTarget parse(List<String> options) {
        String upper = null;
        List<Path> lowers = new ArrayList<>();
        for (String o : options) {
            if (o.startsWith("upperdir=")) {
                upper = o.substring("upperdir=".length());
            } else if (o.startsWith("lowerdir=")) {
                lowers.clear();
                for (String l : o.substring("lowerdir=".length()).split(":")) lowers.add(Path.of(l));
            }
        }
        if (upper == null) throw Errdefs.invalidArgument("upperdir not found");
        return new OverlayTarget(Path.of(upper), List.copyOf(lowers));
    }
}
