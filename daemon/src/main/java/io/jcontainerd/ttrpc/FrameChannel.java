package io.jcontainerd.ttrpc;

import io.jcontainerd.errdefs.ContainerdException;
import io.jcontainerd.errdefs.ErrorKind;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.concurrent.locks.ReentrantLock;

/** Frame reading and writing on one connection. Reads come from a single thread; writes from any. */
final class FrameChannel implements AutoCloseable {
    static final int HEADER_LENGTH = 10;
    static final int MAX_PAYLOAD = 4 << 20;

    static final byte TYPE_REQUEST = 1;
    static final byte TYPE_RESPONSE = 2;
    static final byte TYPE_DATA = 3;

    static final byte FLAG_REMOTE_CLOSED = 1;
    static final byte FLAG_REMOTE_OPEN = 2;
    static final byte FLAG_NO_DATA = 4;

    private static final byte[] EMPTY = new byte[0];

    /** One received frame; {@code streamId} is the unsigned wire value held in an int. */
    record Frame(int streamId, byte type, byte flags, byte[] payload) {
        boolean has(byte flag) {
            return (flags & flag) == flag;
        }
    }

    /** A frame whose announced length exceeded the limit; its payload has been skipped. */
    static final class OversizedFrameException extends IOException {
        final int streamId;

        OversizedFrameException(int streamId, long length) {
            super(oversizeMessage(length));
            this.streamId = streamId;
        }
    }

    /** The wording of containerd's oversize error, so logs read the same on both sides. */
    static String oversizeMessage(long length) {
        return "message length " + length + " exceed maximum message size of " + MAX_PAYLOAD;
    }

    static ContainerdException oversize(long length) {
        return new ContainerdException(ErrorKind.RESOURCE_EXHAUSTED, oversizeMessage(length));
    }

    private final SocketChannel socket;
    private final ByteBuffer in = ByteBuffer.allocate(64 * 1024).flip();
    private final ByteBuffer header = ByteBuffer.allocate(HEADER_LENGTH);
    private final ReentrantLock writeLock = new ReentrantLock();

    FrameChannel(SocketChannel socket) {
        this.socket = socket;
    }

    /** The next frame, or null on a clean end of stream between frames. */
    Frame read() throws IOException {
        if (!fill(HEADER_LENGTH, true)) return null;
        long length = Integer.toUnsignedLong(in.getInt());
        int streamId = in.getInt();
        byte type = in.get();
        byte flags = in.get();
        if (length > MAX_PAYLOAD) {
            skip(length);
            throw new OversizedFrameException(streamId, length);
        }
        byte[] payload = length == 0 ? EMPTY : new byte[(int) length];
        int fromBuffer = Math.min(in.remaining(), payload.length);
        in.get(payload, 0, fromBuffer);
        if (fromBuffer < payload.length) {
            // large payloads go straight into their array instead of through the read buffer
            ByteBuffer rest = ByteBuffer.wrap(payload, fromBuffer, payload.length - fromBuffer);
            while (rest.hasRemaining()) {
                if (socket.read(rest) < 0) throw new EOFException("ttrpc: connection closed inside a frame");
            }
        }
        return new Frame(streamId, type, flags, payload);
    }

    /** Makes at least n bytes readable from {@code in}; false on EOF before any byte when allowed. */
    private boolean fill(int n, boolean eofAllowedAtStart) throws IOException {
        if (in.remaining() >= n) return true;
        in.compact();
        try {
            while (in.position() < n) {
                if (socket.read(in) < 0) {
                    if (eofAllowedAtStart && in.position() == 0) return false;
                    throw new EOFException("ttrpc: connection closed inside a frame");
                }
            }
        } finally {
            in.flip();
        }
        return true;
    }

    private void skip(long n) throws IOException {
        while (n > 0) {
            if (!in.hasRemaining()) fill(1, false);
            int step = (int) Math.min(n, in.remaining());
            in.position(in.position() + step);
            n -= step;
        }
    }

    /** Writes one whole frame; concurrent writers never interleave. */
    void write(int streamId, byte type, byte flags, byte[] payload) throws IOException {
        if (payload.length > MAX_PAYLOAD) throw oversize(payload.length);
        writeLock.lock();
        try {
            header.clear();
            header.putInt(payload.length).putInt(streamId).put(type).put(flags).flip();
            ByteBuffer[] bufs = {header, ByteBuffer.wrap(payload)};
            long total = HEADER_LENGTH + (long) payload.length;
            for (long written = 0; written < total; ) written += socket.write(bufs);
        } finally {
            writeLock.unlock();
        }
    }

    /** Runs {@code action} holding the write lock, so ids can be allocated in wire order. */
    <T> T withWriteLock(IoSupplier<T> action) throws IOException {
        writeLock.lock();
        try {
            return action.get();
        } finally {
            writeLock.unlock();
        }
    }

    interface IoSupplier<T> {
        T get() throws IOException;
    }

    boolean isOpen() {
        return socket.isOpen();
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // nothing left to release
        }
    }
}
