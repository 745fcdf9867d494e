package io.jcontainerd.snapshots.storage;

import io.jcontainerd.snapshots.Kind;
import java.util.List;

/**
 * An active or view snapshot as its snapshotter needs it to build mounts: its id and the ids of its
 * committed ancestors, the immediate parent first.
 */
public record Snapshot(Kind kind, String id, List<String> parentIds) {
    public Snapshot {
        parentIds = List.copyOf(parentIds);
    }
}
