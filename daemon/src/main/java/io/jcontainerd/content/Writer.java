package io.jcontainerd.content;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;

/**
 * An open ingest. Holding a writer holds the ref's lock; {@link #close()} releases it and keeps the
 * partial data for a later resume, {@link #commit} turns it into a blob atomically.
 */
public interface Writer extends AutoCloseable {
    Status status() throws IOException;

    /** Digest of everything written so far. */
    Digest digest();

    /** Appends at the current offset. */
    void write(ByteBuffer src) throws IOException;

    /**
     * Commits the data as a blob. {@code size} 0 and {@code expected} null mean "do not check".
     * A size or digest mismatch is FailedPrecondition: the ingest stays and the writer stays open, so
     * the caller may truncate and rewrite, commit again, or close and resume later. An existing blob is
     * AlreadyExists (the ingest is removed). Every outcome other than a mismatch closes the writer.
     */
    void commit(long size, Digest expected, Map<String, String> labels) throws IOException;

    /** Truncates to {@code size} (0 restarts from scratch); the digest is recomputed over what remains. */
    void truncate(long size) throws IOException;

    @Override
    void close() throws IOException;
}
