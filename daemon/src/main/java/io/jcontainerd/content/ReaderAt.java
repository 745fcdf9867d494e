package io.jcontainerd.content;

import java.io.IOException;
import java.nio.ByteBuffer;

/** Random-access read of one blob. */
public interface ReaderAt extends AutoCloseable {
    long size();

    /** Reads into {@code dst} from {@code offset}; returns bytes read, or -1 at end of blob. */
    int readAt(ByteBuffer dst, long offset) throws IOException;

    @Override
    void close() throws IOException;
}
