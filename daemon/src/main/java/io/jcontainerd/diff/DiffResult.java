package io.jcontainerd.diff;

import io.jcontainerd.content.Digest;

/**
 * A layer written by the {@link Differ}: digest and size of the bytes written (the blob), the digest and size
 * of the tar before compression (the diff id, containerd's {@code containerd.io/uncompressed} label), and the
 * media type matching the compression.
 */
public record DiffResult(String mediaType, Digest digest, long size, Digest uncompressedDigest, long uncompressedSize) {
    /** The label containerd puts on compressed diffs with the uncompressed digest. */
    public static final String UNCOMPRESSED_LABEL = "containerd.io/uncompressed";
}
