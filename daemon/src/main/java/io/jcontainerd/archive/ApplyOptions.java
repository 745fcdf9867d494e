package io.jcontainerd.archive;

import java.nio.file.Path;
import java.util.List;

/**
 * How a layer is applied.
 *
 * @param whiteouts what whiteout entries become in the target
 * @param parents   directories below the target, nearest first (an overlay's lowerdirs): a parent directory
 *                  the layer implies but does not contain copies its owner, mode, times and xattrs from the
 *                  first of these that has it, instead of getting 0755 root (containerd's WithParents)
 */
public record ApplyOptions(Whiteouts whiteouts, List<Path> parents) {
    public ApplyOptions {
        if (whiteouts == null) whiteouts = Whiteouts.DELETE;
        parents = parents == null ? List.of() : List.copyOf(parents);
    }

    public enum Whiteouts {
        /** Apply to a complete directory tree: {@code .wh.x} deletes x, an opaque marker deletes what the layer did not add. */
        DELETE,
        /**
         * Apply to an overlay upperdir (containerd's OverlayConvertWhiteout): {@code .wh.x} becomes a 0/0 character
         * device x and an opaque marker sets {@code trusted.overlay.opaque=y} on its directory.
         */
        OVERLAY
    }

    /** Applying onto a plain directory holding the whole tree. */
    public static ApplyOptions plain() {
        return new ApplyOptions(Whiteouts.DELETE, List.of());
    }

    /** Applying into an overlay upperdir whose lowerdirs (nearest first) are given. */
    public static ApplyOptions overlay(List<Path> lowerdirs) {
        return new ApplyOptions(Whiteouts.OVERLAY, lowerdirs);
    }
}
