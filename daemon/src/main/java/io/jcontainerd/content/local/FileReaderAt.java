package io.jcontainerd.content.local;

import io.jcontainerd.content.ReaderAt;
import io.jcontainerd.errdefs.Errdefs;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** A blob opened for positional reads; blobs never change, so the size is taken once. */
final class FileReaderAt implements ReaderAt {
    private final FileChannel channel;
    private final long size;

    private FileReaderAt(FileChannel channel, long size) {
        this.channel = channel;
        this.size = size;
    }

    static FileReaderAt open(Path p) throws IOException {
        FileChannel ch = FileChannel.open(p, StandardOpenOption.READ);
        try {
            return new FileReaderAt(ch, ch.size());
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    @Override
    public long size() {
        return size;
    }

    /** Fills {@code dst} as far as the blob allows (pread, no shared position, safe to call concurrently). */
    @Override
    public int readAt(ByteBuffer dst, long offset) throws IOException {
        if (offset < 0) throw Errdefs.invalidArgument("negative read offset %d: invalid argument", offset);
        if (!dst.hasRemaining()) return 0;
        if (offset >= size) return -1;
        int total = 0;
        while (dst.hasRemaining()) {
            int n = channel.read(dst, offset + total);
            if (n < 0) break;
            total += n;
        }
        return total == 0 ? -1 : total;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
