package io.jcontainerd.gc;

import java.util.Objects;

/**
 * One resource in the reference graph. Keys are what containerd uses: a digest for content and
 * ingests' expected blobs, the ref for ingests, the lease id, and {@code <snapshotter>/<key>} for
 * snapshots.
 */
public record Node(ResourceType type, String namespace, String key) {

    public Node {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(namespace, "namespace");
        Objects.requireNonNull(key, "key");
    }

    public static Node content(String namespace, String digest) {
        return new Node(ResourceType.CONTENT, namespace, digest);
    }

    public static Node ingest(String namespace, String ref) {
        return new Node(ResourceType.INGEST, namespace, ref);
    }

    public static Node lease(String namespace, String id) {
        return new Node(ResourceType.LEASE, namespace, id);
    }

    public static Node snapshot(String namespace, String snapshotter, String key) {
        return new Node(ResourceType.SNAPSHOT, namespace, snapshotter + "/" + key);
    }

    /** For a snapshot node: the snapshotter part of the key (up to the first '/'), or null if malformed. */
    public String snapshotter() {
        int slash = key.indexOf('/');
        return slash < 0 ? null : key.substring(0, slash);
    }

    /** For a snapshot node: the snapshot key within its snapshotter, or null if malformed. */
    public String snapshotKey() {
        int slash = key.indexOf('/');
        return slash < 0 ? null : key.substring(slash + 1);
    }
}
