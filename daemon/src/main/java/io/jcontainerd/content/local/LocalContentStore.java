package io.jcontainerd.content.local;

import io.jcontainerd.content.ContentStore;
import io.jcontainerd.content.Digest;
import io.jcontainerd.content.Info;
import io.jcontainerd.content.ReaderAt;
import io.jcontainerd.content.Status;
import io.jcontainerd.content.Writer;
import io.jcontainerd.errdefs.ContainerdException;
import io.jcontainerd.errdefs.Errdefs;
import io.jcontainerd.errdefs.ErrorKind;
import io.jcontainerd.filters.Filter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.DateTimeException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * containerd's local content store: blobs under {@code blobs/sha256/<hex>} (read-only files), ingests
 * under {@code ingest/<sha256 of ref>/} holding {@code data}, {@code ref}, {@code total},
 * {@code startedat} and {@code updatedat}, the same layout containerd uses. It keeps no labels: as
 * in containerd, labels belong to the metadata layer, and {@link #update} is FailedPrecondition.
 */
public final class LocalContentStore implements ContentStore {
    private static final Logger LOG = Logger.getLogger(LocalContentStore.class.getName());

    private final Path root;
    private final Path blobs;
    private final Path ingests;

    private LocalContentStore(Path root) {
        this.root = root;
        this.blobs = root.resolve("blobs").resolve(Digest.SHA256);
        this.ingests = root.resolve("ingest");
    }

    /**
     * Opens (creating if needed) the store at {@code root}. Resumable ingests are kept; only what an
     * interrupted commit or abort can leave behind (temp files, ingest directories without data) is
     * removed.
     */
    public static LocalContentStore open(Path root) throws IOException {
        LocalContentStore s = new LocalContentStore(root.toAbsolutePath().normalize());
        Files.createDirectories(s.ingests);
        s.sweepIngests();
        return s;
    }

    public Path root() {
        return root;
    }

    Path blobPath(Digest d) {
        return blobs.resolve(d.hex());
    }

    Path blobsDir() {
        return blobs;
    }

    /** The ingest directory of {@code ref}: named by the ref's sha256 so that its length is fixed. */
    Path ingestDir(String ref) {
        return ingests.resolve(HexFormat.of().formatHex(sha256().digest(ref.getBytes(StandardCharsets.UTF_8))));
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public Info info(Digest digest) throws IOException {
        try {
            return info(digest, Files.readAttributes(blobPath(digest), BasicFileAttributes.class));
        } catch (NoSuchFileException e) {
            throw Errdefs.notFound("content %s: not found", digest);
        }
    }

    /** As containerd: created = mtime (set at commit), updated = atime. */
    private static Info info(Digest digest, BasicFileAttributes a) {
        return new Info(digest, a.size(), a.lastModifiedTime().toInstant(), a.lastAccessTime().toInstant(), Map.of());
    }

    @Override
    public Info update(Info info, List<String> fieldpaths) {
        throw Errdefs.failedPrecondition("update not supported on immutable content store: failed precondition");
    }

    @Override
    public void walk(List<String> filters, WalkFn fn) throws IOException {
        Filter filter = Filter.parseAll(filters);
        // blobs/ holds one directory per algorithm; only sha256 exists here, anything else is ignored
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(blobs)) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                if (!isHex64(name)) continue;
                BasicFileAttributes a;
                try {
                    a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                } catch (NoSuchFileException e) {
                    continue; // deleted while walking
                }
                if (!a.isRegularFile()) continue;
                Info info = info(new Digest(Digest.SHA256, name), a);
                if (filter.match(info.adaptor())) fn.accept(info);
            }
        } catch (NoSuchFileException e) {
            // nothing committed yet
        }
    }

    private static boolean isHex64(String s) {
        if (s.length() != 64) return false;
        for (int i = 0; i < 64; i++) {
            char c = s.charAt(i);
            if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f')) return false;
        }
        return true;
    }

    @Override
    public void delete(Digest digest) throws IOException {
        try {
            Files.delete(blobPath(digest));
        } catch (NoSuchFileException e) {
            throw Errdefs.notFound("content %s: not found", digest);
        }
    }

    @Override
    public ReaderAt readerAt(Digest digest) throws IOException {
        Path p = blobPath(digest);
        try {
            return FileReaderAt.open(p);
        } catch (NoSuchFileException e) {
            throw Errdefs.notFound("blob %s expected at %s: blob not found: not found", digest, p);
        }
    }

    @Override
    public Status status(String ref) throws IOException {
        Status s = readStatus(ingestDir(ref));
        RefLocks.Held h = RefLocks.holder(root, ref);
        return h == null || h.expected() == null ? s
                : new Status(s.ref(), s.offset(), s.total(), h.expected(), s.startedAt(), s.updatedAt());
    }

    @Override
    public List<Status> listStatuses(List<String> filters) throws IOException {
        Filter filter = Filter.parseAll(filters);
        List<Status> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(ingests, Files::isDirectory)) {
            for (Path dir : ds) {
                Status s;
                try {
                    s = readStatus(dir);
                } catch (ContainerdException e) {
                    // an ingest that is being committed or aborted right now, or a damaged one: not listed
                    if (!e.is(ErrorKind.NOT_FOUND)) LOG.log(Level.WARNING, "skipping unreadable ingest " + dir, e);
                    continue;
                }
                RefLocks.Held h = RefLocks.holder(root, s.ref());
                if (h != null && h.expected() != null) {
                    s = new Status(s.ref(), s.offset(), s.total(), h.expected(), s.startedAt(), s.updatedAt());
                }
                if (filter.match(s.adaptor())) out.add(s);
            }
        }
        return out;
    }

    /**
     * An ingest's status from its files. The offset is the data file's length; {@code updatedat} is only
     * written when a writer closes, so the data file's mtime wins when it is newer.
     */
    Status readStatus(Path dir) throws IOException {
        Path data = dir.resolve("data");
        BasicFileAttributes a;
        String ref;
        try {
            a = Files.readAttributes(data, BasicFileAttributes.class);
            ref = StoreFiles.readString(dir.resolve("ref"));
        } catch (NoSuchFileException e) {
            throw Errdefs.notFound("stat %s: no such file or directory: not found", e.getFile());
        }
        Instant startedAt = readTime(dir.resolve("startedat"));
        Instant updatedAt = readTime(dir.resolve("updatedat"));
        Instant mtime = a.lastModifiedTime().toInstant();
        if (mtime.isAfter(updatedAt)) updatedAt = mtime;
        return new Status(ref, a.size(), readTotal(dir), null, startedAt, updatedAt);
    }

    private static Instant readTime(Path p) throws IOException {
        String name = p.getFileName().toString();
        try {
            return StoreFiles.parseTime(StoreFiles.readString(p));
        } catch (NoSuchFileException e) {
            throw Errdefs.notFound("could not read %s: open %s: no such file or directory: not found", name, p);
        } catch (DateTimeException e) {
            throw Errdefs.failedPrecondition("could not read %s: could not parse timestamp file %s: %s", name, p, e.getMessage());
        }
    }

    /** The total size hint; 0 when absent or unreadable, as in containerd. */
    private static long readTotal(Path dir) {
        try {
            return Long.parseLong(StoreFiles.readString(dir.resolve("total")).trim());
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
    }

    @Override
    public void abort(String ref) throws IOException {
        if (!StoreFiles.deleteTree(ingestDir(ref))) throw Errdefs.notFound("ingest ref \"%s\": not found", ref);
    }

    @Override
    public Writer writer(String ref, long total, Digest expected) throws IOException {
        if (ref == null || ref.isEmpty()) throw Errdefs.invalidArgument("ref must not be empty: invalid argument");
        RefLocks.Held lock = RefLocks.acquire(root, ref, expected);
        try {
            return LocalWriter.open(this, lock, total, expected);
        } catch (Throwable t) {
            RefLocks.release(lock);
            throw t;
        }
    }

    /**
     * Boot-time tidying that never loses resumable data: removes the {@code *.tmp} files of interrupted
     * atomic writes and ingest directories with no {@code data} (a commit or abort that was cut short).
     */
    private void sweepIngests() throws IOException {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(ingests, Files::isDirectory)) {
            for (Path dir : ds) {
                try {
                    String ref = Files.exists(dir.resolve("ref")) ? StoreFiles.readString(dir.resolve("ref")) : null;
                    if (ref != null && RefLocks.holder(root, ref) != null) continue; // in use in this process
                    try (DirectoryStream<Path> tmps = Files.newDirectoryStream(dir, "*.tmp")) {
                        for (Path t : tmps) Files.deleteIfExists(t);
                    }
                    if (!Files.exists(dir.resolve("data"))) StoreFiles.deleteTree(dir);
                } catch (IOException e) {
                    LOG.log(Level.WARNING, "could not tidy ingest " + dir, e);
                }
            }
        }
    }
}
