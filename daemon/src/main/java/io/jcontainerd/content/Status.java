package io.jcontainerd.content;

import java.time.Instant;

/** Progress of one ingest (an open or resumable write), by its client-chosen ref. */
public record Status(String ref, long offset, long total, Digest expected, Instant startedAt, Instant updatedAt) {}
