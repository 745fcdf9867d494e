package io.jcontainerd.sys;

import java.io.IOException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * Makes the commits of an SQLite database in WAL mode durable with fdatasync(2) instead of SQLite's own
 * fsync(2). sqlite-jdbc's library is built without HAVE_FDATASYNC, so {@code synchronous=FULL} ends every
 * commit with an fsync, which also forces out the WAL's timestamps: on ext4 that is a journal commit, several
 * ms on a busy disk (measured here: fsync 2.6 ms, fdatasync 0.4 ms per 4 KiB write). A database using this
 * runs with {@code synchronous=NORMAL} (no sync at commit) and calls {@link #sync()} after each write
 * transaction, before answering anyone: the WAL is on disk as with FULL, synced the way bolt (containerd's
 * store) syncs. Checkpoints still sync themselves under NORMAL.
 *
 * <p>The JDK does the call: {@code FileChannel.force(false)} is fdatasync(2) on Linux. Not going through
 * {@link Libc} keeps FFM (some 300 JDK classes and a stub class spun per call shape) off every daemon's
 * boot, which opens two databases.
 */
public final class WalSync implements AutoCloseable {
    private final Path wal;
    private FileChannel channel;
    private Object fileKey;

    /** For the database file {@code db} (its WAL is {@code db-wal}). */
    public WalSync(Path db) {
        this.wal = Path.of(db + "-wal");
    }

    /** Flushes everything committed so far to the WAL. */
    public synchronized void sync() throws IOException {
        Object current;
        try {
            // (device, inode): the WAL is only replaced when every connection has closed; reopen if that happened
            current = Files.readAttributes(wal, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
        } catch (NoSuchFileException e) {
            return; // no WAL (yet): nothing was written through one
        }
        try {
            force(current);
        } catch (ClosedByInterruptException e) {
            // An interrupt closes a FileChannel. The commit is done and must be durable whatever the caller's
            // thread status: sync on a fresh channel with the flag cleared, then set it again.
            Thread.interrupted();
            try {
                force(current);
            } finally {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void force(Object key) throws IOException {
        if (channel == null || !channel.isOpen() || !key.equals(fileKey)) {
            closeChannel();
            channel = FileChannel.open(wal, StandardOpenOption.READ);
            fileKey = key;
        }
        channel.force(false);
    }

    private void closeChannel() {
        if (channel == null) return;
        try {
            channel.close();
        } catch (IOException ignored) {
            // a read-only descriptor: nothing to lose
        }
        channel = null;
    }

    @Override
    public synchronized void close() {
        closeChannel();
    }
}
