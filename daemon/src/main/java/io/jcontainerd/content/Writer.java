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
     * A size or digest mismatch is FailedPrecondition and the ingest stays for retry; an existing blob is
     * AlreadyExists (the ingest is removed).
     */
    void commit(long size, Digest expected, Map<String, String> labels) throws IOException;

    /** Truncates to {@code size} (only 0 is required to be supported: restart from scratch). */
    void truncate(long size) throws IOException;

    @Override
    void close() throws IOException;
}
