package io.jcontainerd.content;

import io.jcontainerd.filters.Adaptor;
import java.time.Instant;
import java.util.Optional;

/**
 * Progress of one ingest (an open or resumable write), by its client-chosen ref. {@code expected} is
 * null when unknown (it is only known while a writer that was given it is open).
 */
public record Status(String ref, long offset, long total, Digest expected, Instant startedAt, Instant updatedAt) {

    /** The fields status filters see, as containerd's: only {@code ref}. */
    public Adaptor adaptor() {
        return path -> !path.isEmpty() && path.getFirst().equals("ref") ? Optional.of(ref) : Optional.empty();
    }
}
