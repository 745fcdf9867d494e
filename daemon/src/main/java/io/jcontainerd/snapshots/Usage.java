package io.jcontainerd.snapshots;

/** Resources a snapshot's own layer uses: bytes on disk and distinct inodes. */
public record Usage(long size, long inodes) {
    public static final Usage ZERO = new Usage(0, 0);

    public Usage add(Usage other) {
        return new Usage(size + other.size, inodes + other.inodes);
    }
}
