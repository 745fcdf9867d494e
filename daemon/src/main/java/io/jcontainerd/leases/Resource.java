package io.jcontainerd.leases;

/**
 * A resource held by a lease, with containerd's type strings: {@code content} (id = digest),
 * {@code ingests} (id = ref), {@code snapshots/<snapshotter>} (id = snapshot key).
 */
public record Resource(String id, String type) {}
