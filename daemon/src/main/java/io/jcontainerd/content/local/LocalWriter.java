package io.jcontainerd.content.local;

import io.jcontainerd.content.Digest;
import io.jcontainerd.content.Status;
import io.jcontainerd.content.Writer;
import io.jcontainerd.errdefs.ContainerdException;
import io.jcontainerd.errdefs.Errdefs;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One open ingest of the local store. Writes go straight to the data file with positional writes and
 * into the running SHA-256; nothing else touches the disk per write ({@code updatedat} is written when
 * the writer closes, readers fall back on the data file's mtime). Holds the ref's lock until closed.
 */
final class LocalWriter implements Writer {
    private static final Logger LOG = Logger.getLogger(LocalWriter.class.getName());
    private static final int REHASH_CHUNK = 1 << 20;

    private final LocalContentStore store;
    private final RefLocks.Held lock;
    private final Path dir;
    private final Path data;
    private final long total;
    private final Digest expected;
    private final Instant startedAt;
    private final Instant updatedAtOnOpen;
    private final Sha256 digest;
    private FileChannel channel;
    private long offset;
    // the last write's time, kept as a nanoTime against the open instant so that writes allocate nothing
    private final Instant openedAt = Instant.now();
    private final long openedNanos = System.nanoTime();
    private long lastWriteNanos;
    private boolean written;

    private LocalWriter(LocalContentStore store, RefLocks.Held lock, Path dir, long total, Digest expected,
                        Instant startedAt, Instant updatedAt, Sha256 digest, FileChannel channel, long offset) {
        this.store = store;
        this.lock = lock;
        this.dir = dir;
        this.data = dir.resolve("data");
        this.total = total;
        this.expected = expected;
        this.startedAt = startedAt;
        this.updatedAtOnOpen = updatedAt;
        this.digest = digest;
        this.channel = channel;
        this.offset = offset;
    }

    /** Starts or resumes the ingest of {@code lock.ref()}; the caller holds the lock and releases it on failure. */
    static LocalWriter open(LocalContentStore store, RefLocks.Held lock, long total, Digest expected) throws IOException {
        String ref = lock.ref();
        if (expected != null && Files.exists(store.blobPath(expected))) {
            throw Errdefs.alreadyExists("content %s: already exists", expected);
        }
        Path dir = store.ingestDir(ref);
        Sha256 md = Sha256.create();
        Status resumed = null;
        try {
            Files.createDirectory(dir);
        } catch (FileAlreadyExistsException e) {
            resumed = resumable(store, dir, ref, total);
        }
        Instant startedAt, updatedAt;
        if (resumed != null) {
            startedAt = resumed.startedAt();
            updatedAt = resumed.updatedAt();
            total = resumed.total();
        } else {
            startedAt = updatedAt = Instant.now();
            Files.writeString(dir.resolve("ref"), ref);
            StoreFiles.writeAtomically(dir.resolve("startedat"), StoreFiles.formatTime(startedAt));
            StoreFiles.writeAtomically(dir.resolve("updatedat"), StoreFiles.formatTime(startedAt));
            if (total > 0) Files.writeString(dir.resolve("total"), Long.toString(total));
            else Files.deleteIfExists(dir.resolve("total"));
        }
        FileChannel ch = openData(dir.resolve("data"), resumed == null);
        try {
            // the running digest is rebuilt from the bytes already there, as containerd does on resume
            long offset = resumed == null ? 0 : rehash(ch, md, Long.MAX_VALUE);
            return new LocalWriter(store, lock, dir, total, expected, startedAt, updatedAt, md, ch, offset);
        } catch (Throwable t) {
            ch.close();
            throw t;
        }
    }

    /** The status of an existing ingest if it can be resumed; null (logged) when it must be started afresh. */
    private static Status resumable(LocalContentStore store, Path dir, String ref, long total) throws IOException {
        String problem;
        try {
            Status s = store.readStatus(dir);
            if (!s.ref().equals(ref)) problem = "ref key does not match: " + ref + " != " + s.ref();
            else if (total > 0 && s.total() > 0 && total != s.total()) problem = "provided total differs from status: " + total + " != " + s.total();
            else return s;
        } catch (ContainerdException e) {
            problem = e.getMessage();
        }
        LOG.info("failed to resume the status from path " + dir + ": " + problem + ". will recreate them");
        return null;
    }

    private static FileChannel openData(Path data, boolean fresh) throws IOException {
        var opts = fresh
                ? new StandardOpenOption[] {StandardOpenOption.READ, StandardOpenOption.WRITE, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING}
                : new StandardOpenOption[] {StandardOpenOption.READ, StandardOpenOption.WRITE, StandardOpenOption.CREATE};
        try {
            return FileChannel.open(data, opts);
        } catch (AccessDeniedException e) {
            // a commit cut short after making the data read-only: it is still our ingest, make it writable again
            Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rw-r--r--"));
            return FileChannel.open(data, opts);
        }
    }

    /** Feeds the first {@code limit} bytes (or all) of {@code ch} into {@code md}; returns how many there were. */
    private static long rehash(FileChannel ch, Sha256 md, long limit) throws IOException {
        byte[] buf = new byte[(int) Math.min(REHASH_CHUNK, Math.max(limit, 1))];
        ByteBuffer bb = ByteBuffer.wrap(buf);
        long pos = 0;
        while (pos < limit) {
            bb.clear().limit((int) Math.min(buf.length, limit - pos));
            int n = ch.read(bb, pos);
            if (n < 0) break;
            md.update(buf, 0, n);
            pos += n;
        }
        return pos;
    }

    private void ensureOpen(String op) {
        if (channel == null) throw Errdefs.failedPrecondition("cannot %s on closed writer: failed precondition", op);
    }

    @Override
    public synchronized Status status() {
        return new Status(lock.ref(), offset, total, expected, startedAt, updatedAt());
    }

    private Instant updatedAt() {
        return written ? openedAt.plusNanos(lastWriteNanos - openedNanos) : updatedAtOnOpen;
    }

    @Override
    public synchronized Digest digest() {
        return currentDigest();
    }

    private Digest currentDigest() {
        return digest.current(); // leaves the running state alone: the writer may go on after a failed commit
    }

    @Override
    public synchronized void write(ByteBuffer src) throws IOException {
        ensureOpen("write");
        int start = src.position(), end = src.limit();
        try {
            while (src.hasRemaining()) offset += channel.write(src, offset);
        } finally {
            // hash exactly what reached the file, even if a write failed part-way
            src.limit(src.position()).position(start);
            digest.update(src);
            src.limit(end);
            lastWriteNanos = System.nanoTime();
            written = true;
        }
    }

    @Override
    public synchronized void commit(long size, Digest expected, Map<String, String> labels) throws IOException {
        ensureOpen("commit");
        long actual = channel.size();
        if (size > 0 && size != actual) {
            throw Errdefs.failedPrecondition("unexpected commit size %d, expected %d: failed precondition", actual, size);
        }
        Digest dgst = currentDigest();
        if (expected != null && !expected.equals(dgst)) {
            throw Errdefs.failedPrecondition("unexpected commit digest %s, expected %s: failed precondition", dgst, expected);
        }
        // from here on the writer is done whatever happens
        FileChannel ch = channel;
        channel = null;
        try {
            Path target = store.blobPath(dgst);
            Files.createDirectories(target.getParent());
            if (Files.exists(target)) {
                ch.close();
                removeIngest();
                throw Errdefs.alreadyExists("content %s: already exists", dgst);
            }
            // the blob must be complete and read-only before its name appears: a crash at any point
            // leaves either no blob or a full one whose name is its digest (rename is atomic)
            ch.force(false);
            ch.close();
            FileTime now = FileTime.from(Instant.now());
            Files.getFileAttributeView(data, BasicFileAttributeView.class).setTimes(now, now, null);
            Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("r--r--r--"));
            try {
                Files.move(data, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (NoSuchFileException e) {
                throw Errdefs.notFound("ingest ref \"%s\": not found", lock.ref()); // aborted under us
            } catch (IOException e) {
                Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rw-r--r--"));
                throw e;
            }
            StoreFiles.syncDir(store.blobsDir());
            removeIngest();
        } finally {
            if (ch.isOpen()) closeQuietly(ch);
            RefLocks.release(lock);
        }
    }

    private void removeIngest() {
        try {
            StoreFiles.deleteTree(dir);
        } catch (IOException e) {
            // harmless: without data the directory is not an ingest any more, boot removes it
            LOG.log(Level.WARNING, "failed to remove ingest directory " + dir + " of ref " + lock.ref(), e);
        }
    }

    @Override
    public synchronized void truncate(long size) throws IOException {
        ensureOpen("truncate");
        if (size < 0 || size > offset) {
            throw Errdefs.invalidArgument("cannot truncate ingest of %d bytes to %d: invalid argument", offset, size);
        }
        channel.truncate(size);
        digest.reset();
        if (size > 0) rehash(channel, digest, size);
        offset = size;
        lastWriteNanos = System.nanoTime();
        written = true;
    }

    /** Releases the lock and keeps the ingest (synced, with its {@code updatedat}) for a later resume. */
    @Override
    public synchronized void close() throws IOException {
        FileChannel ch = channel;
        if (ch == null) return;
        channel = null;
        try {
            ch.force(false);
            ch.close();
            if (written) StoreFiles.writeAtomically(dir.resolve("updatedat"), StoreFiles.formatTime(updatedAt()));
        } catch (NoSuchFileException e) {
            // the ingest was aborted while open: nothing left to keep
        } finally {
            closeQuietly(ch);
            RefLocks.release(lock);
        }
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // already failing or already closed
        }
    }
}
