package io.jcontainerd.archive;

import io.jcontainerd.content.Digest;

/** The digest and size of the uncompressed tar stream that was applied (a layer's diff id). */
public record ApplyResult(Digest digest, long size) {}
