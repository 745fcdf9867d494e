package io.jcontainerd.snapshots;

import java.time.Instant;
import java.util.Map;

/**
 * What is known about a snapshot: its kind, its name (the key of an active or view, the name of a
 * committed one), its parent's name ("" for none), its labels and timestamps.
 */
public record Info(Kind kind, String name, String parent, Map<String, String> labels, Instant created, Instant updated) {

    public Info {
        parent = parent == null ? "" : parent;
        labels = labels == null ? Map.of() : Map.copyOf(labels);
    }

    /** An info carrying only a name and labels, as passed to {@link Snapshotter#update}. */
    public static Info forUpdate(String name, Map<String, String> labels) {
        return new Info(null, name, "", labels, null, null);
    }

    public Info withLabels(Map<String, String> newLabels) {
        return new Info(kind, name, parent, newLabels, created, updated);
    }
}
