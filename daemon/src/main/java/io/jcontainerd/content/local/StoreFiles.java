package io.jcontainerd.content.local;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;

/** File helpers of the local store: the ingest timestamp files, atomic small writes, tree removal. */
final class StoreFiles {
    private StoreFiles() {}

    /**
     * Formats a timestamp as Go's {@code time.Time.MarshalText} does (RFC 3339 with as many fraction
     * digits as needed, local offset, {@code Z} for UTC), which is what containerd keeps in
     * {@code startedat}/{@code updatedat}.
     */
    static String formatTime(Instant t) {
        return DateTimeFormatter.ISO_OFFSET_DATE_TIME.format(OffsetDateTime.ofInstant(t, ZoneId.systemDefault()));
    }

    static Instant parseTime(String s) {
        return OffsetDateTime.parse(s.trim(), DateTimeFormatter.ISO_OFFSET_DATE_TIME).toInstant();
    }

    static String readString(Path p) throws IOException {
        return Files.readString(p, StandardCharsets.UTF_8);
    }

    /** Writes {@code path} whole or not at all: a synchronous write of {@code path.tmp}, then a rename. */
    static void writeAtomically(Path path, String content) throws IOException {
        Path tmp = path.resolveSibling(path.getFileName() + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.CREATE,
                StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.SYNC)) {
            ByteBuffer b = ByteBuffer.wrap(content.getBytes(StandardCharsets.UTF_8));
            while (b.hasRemaining()) ch.write(b);
        }
        Files.move(tmp, path, StandardCopyOption.ATOMIC_MOVE);
    }

    /** Removes a directory and everything below it; false if it did not exist. */
    static boolean deleteTree(Path dir) throws IOException {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                if (Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) deleteTree(p);
                else Files.deleteIfExists(p);
            }
        } catch (NoSuchFileException e) {
            return false;
        }
        return Files.deleteIfExists(dir);
    }

    /** fsyncs a directory so that a rename into it survives a crash. */
    static void syncDir(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }
}
