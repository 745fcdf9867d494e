package io.jcontainerd.archive;

import io.jcontainerd.archive.compression.MediaTypes;
import io.jcontainerd.errdefs.ContainerdException;
import io.jcontainerd.errdefs.Errdefs;
import io.jcontainerd.sys.ErrnoException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.logging.Logger;

/**
 * Applies an OCI layer tar to a directory (containerd's {@code archive.Apply}): entries are created with their
 * ownership, modes, xattrs and times; whiteouts delete or, for overlay upperdirs, become overlay whiteouts.
 *
 * <p>Every path is resolved inside the root: names are cleaned, absolute names are taken relative to the root,
 * names and hardlink targets that climb out with {@code ..} are rejected, and existing symlinks on the way are
 * followed only as if the root were "/" (so a layer writing through {@code /var/run -> /run} lands in
 * {@code root/run}). The final component is never followed: an existing entry is removed and recreated.
 * Malformed or hostile archives fail with InvalidArgument. The stream is never buffered as a whole.
 */
public final class Applier {
    private static final Logger LOG = Logger.getLogger(Applier.class.getName());
    static final String WHITEOUT_PREFIX = ".wh.";
    static final String WHITEOUT_META_PREFIX = WHITEOUT_PREFIX + WHITEOUT_PREFIX;
    static final String WHITEOUT_OPAQUE = WHITEOUT_META_PREFIX + ".opq";
    private static final String OVERLAY_OPAQUE_XATTR = "trusted.overlay.opaque";
    private static final int BUFFER = 128 * 1024;

    private final Path root;
    private final ApplyOptions options;
    private final LayerTarReader tar;
    /** Paths this layer created: an opaque directory keeps only these (its lower content goes). */
    private final Set<Path> unpacked = new HashSet<>();
    /** Directories whose times are set last, once nothing more is created inside them. */
    private final List<Map.Entry<Path, TarEntry>> dirs = new ArrayList<>();
    private final byte[] buffer = new byte[BUFFER];
    private String cachedDirName;
    private Path cachedDir;

    private Applier(Path root, ApplyOptions options, LayerTarReader tar) {
        this.root = root;
        this.options = options;
        this.tar = tar;
    }

    /**
     * Applies the uncompressed tar {@code tar} to {@code root} and returns the digest and size of everything read
     * from it (trailing data after the end of the archive included), for the caller to compare with the diff id.
     *
     * @throws ContainerdException InvalidArgument for malformed or hostile archives
     * @throws IOException         failures of the file system or of {@code tar} itself
     */
    public static ApplyResult apply(Path root, InputStream tar, ApplyOptions options) throws IOException {
        Path r = root.toRealPath(); // the root itself is trusted (it may live behind a symlink)
        if (!Files.isDirectory(r)) throw Errdefs.invalidArgument("apply root %s is not a directory", r);
        DigestingInputStream digesting = new DigestingInputStream(tar);
        Applier applier = new Applier(r, options == null ? ApplyOptions.plain() : options, new LayerTarReader(digesting));
        applier.run();
        try {
            digesting.drain();
        } catch (DigestingInputStream.SourceException e) {
            throw e.getCause();
        }
        return new ApplyResult(digesting.digest(), digesting.count());
    }

    /** Applies a layer blob, decompressing it as its media type says (see {@link MediaTypes#openLayer}). */
    public static ApplyResult applyLayer(Path root, InputStream blob, String mediaType, ApplyOptions options) throws IOException {
        try (InputStream tar = MediaTypes.openLayer(blob, mediaType)) {
            return apply(root, tar, options);
        }
    }

    private void run() throws IOException {
        for (TarEntry hdr; (hdr = next()) != null; ) {
            if (Thread.currentThread().isInterrupted()) throw Errdefs.aborted("apply interrupted");
            applyEntry(hdr);
        }
        for (var d : dirs) {
            FileStat st = FileStat.lstatOrNull(d.getKey());
            if (st != null && st.isDir()) setTimes(d.getKey(), d.getValue());
        }
    }

    private void applyEntry(TarEntry hdr) throws IOException {
        char type = hdr.type();
        if (type == TarEntry.XGLOBAL) return;
        String name = ArchivePaths.clean(hdr.name());
        if (type == TarEntry.REGA) type = hdr.name().endsWith("/") ? TarEntry.DIR : TarEntry.REG;
        if (name.startsWith("/")) name = ArchivePaths.clean(name.substring(1));
        if (ArchivePaths.escapes(name)) {
            throw Errdefs.invalidArgument("invalid tar entry %s: path escapes the root", hdr.name());
        }
        if (name.equals(".")) return; // resolves to the root itself
        if ((type == TarEntry.CHAR || type == TarEntry.BLOCK) && UserNs.RUNNING) {
            LOG.warning(() -> "file " + hdr.name() + " ignored: device nodes cannot be created in a user namespace");
            return;
        }

        int slash = name.lastIndexOf('/');
        String base = slash < 0 ? name : name.substring(slash + 1);
        Path parent = slash < 0 ? root : parentDir(name.substring(0, slash));

        if (base.startsWith(WHITEOUT_PREFIX)) {
            whiteout(hdr, parent, base);
            return;
        }

        Path path = parent.resolve(base);
        create(path, type, hdr);
        if (type == TarEntry.DIR) dirs.add(Map.entry(path, hdr));
        unpacked.add(path);
    }

    /**
     * The directory an entry goes into, resolved inside the root and created if missing. Layers list
     * siblings together, so the last answer is kept until something is removed or a symlink is created
     * (the only changes that can alter how a path resolves once its directories exist).
     */
    private Path parentDir(String dirName) throws IOException {
        if (dirName.equals(cachedDirName)) return cachedDir;
        Path dir = ArchivePaths.rootPath(root, dirName);
        if (!dir.equals(root)) mkparent(dir);
        cachedDirName = dirName;
        cachedDir = dir;
        return dir;
    }

    private void invalidateDirCache() {
        cachedDirName = null;
        cachedDir = null;
    }

    private void whiteout(TarEntry hdr, Path dir, String base) throws IOException {
        boolean opaque = base.equals(WHITEOUT_OPAQUE);
        String original = base.substring(WHITEOUT_PREFIX.length());
        if (!opaque && (original.isEmpty() || original.equals(".") || original.equals(".."))) {
            throw Errdefs.invalidArgument("invalid whiteout name: %s: invalid archive", base);
        }
        if (options.whiteouts() == ApplyOptions.Whiteouts.OVERLAY) {
            if (opaque) {
                ArchiveSyscalls.lsetxattr(dir, OVERLAY_OPAQUE_XATTR, new byte[] {'y'}, 0);
            } else {
                Path target = dir.resolve(original);
                ArchiveSyscalls.mknod(target, ArchiveSyscalls.S_IFCHR, 0, 0);
                ArchiveSyscalls.lchown(target, (int) hdr.uid(), (int) hdr.gid());
            }
            return;
        }
        if (opaque) {
            if (FileStat.lstatOrNull(dir) == null) throw new NoSuchFileException(dir.toString());
            removeNotUnpacked(dir);
        } else {
            removeAll(dir.resolve(original));
        }
    }

    /** Opaque directory: everything below {@code dir} that this layer did not create goes. */
    private void removeNotUnpacked(Path dir) throws IOException {
        List<Path> children = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            ds.forEach(children::add);
        }
        for (Path child : children) {
            if (!unpacked.contains(child)) {
                removeAll(child);
            } else {
                FileStat st = FileStat.lstatOrNull(child);
                if (st != null && st.isDir()) removeNotUnpacked(child);
            }
        }
    }

    /**
     * Creates one entry. Whatever is in the way is removed first (never followed), except that a directory
     * entry merges into an existing directory. Creation is tried first: on a fresh target nothing is there.
     */
    private void create(Path path, char type, TarEntry hdr) throws IOException {
        int mode = hdr.mode() & 07777;
        boolean symlink = type == TarEntry.SYMLINK;
        Path linkTarget = type == TarEntry.LINK ? hardlinkTarget(hdr) : null;
        if (linkTarget != null) symlink = FileStat.lstat(linkTarget).isSymlink(); // a hardlink to a symlink is a symlink
        if (type != TarEntry.REG && type != TarEntry.DIR && type != TarEntry.CHAR && type != TarEntry.BLOCK
                && type != TarEntry.FIFO && type != TarEntry.LINK && type != TarEntry.SYMLINK) {
            throw Errdefs.invalidArgument("unhandled tar header type %d for %s", (int) type, hdr.name());
        }
        for (int attempt = 0; ; attempt++) {
            try {
                switch (type) {
                    case TarEntry.DIR -> Files.createDirectory(path);
                    case TarEntry.REG -> writeFile(path, hdr);
                    case TarEntry.CHAR -> ArchiveSyscalls.mknod(path, mode | ArchiveSyscalls.S_IFCHR, hdr.devMajor(), hdr.devMinor());
                    case TarEntry.BLOCK -> ArchiveSyscalls.mknod(path, mode | ArchiveSyscalls.S_IFBLK, hdr.devMajor(), hdr.devMinor());
                    case TarEntry.FIFO -> ArchiveSyscalls.mknod(path, mode | ArchiveSyscalls.S_IFIFO, 0, 0);
                    case TarEntry.LINK -> Files.createLink(path, linkTarget);
                    default -> {
                        ArchiveSyscalls.symlink(hdr.linkName(), path);
                        invalidateDirCache();
                    }
                }
                break;
            } catch (java.nio.file.FileAlreadyExistsException e) {
                if (!replaceExisting(path, type, attempt)) break;
            } catch (ErrnoException e) {
                if (e.errno() != ArchiveSyscalls.EEXIST) throw e;
                if (!replaceExisting(path, type, attempt)) break;
            }
        }
        try {
            ArchiveSyscalls.lchown(path, (int) hdr.uid(), (int) hdr.gid());
        } catch (ErrnoException e) {
            throw new IOException("failed to Lchown %s for UID %d, GID %d: %s".formatted(path, hdr.uid(), hdr.gid(), e.getMessage()), e);
        }
        for (var x : hdr.xattrs().entrySet()) {
            if (x.getKey().isEmpty() || x.getKey().indexOf('\0') >= 0) throw Errdefs.invalidArgument("invalid xattr name in %s", hdr.name());
            setXattr(path, type, x.getKey(), x.getValue());
        }
        // after lchown, which clears setuid/setgid
        if (!symlink) ArchiveSyscalls.chmod(path, mode);
        setTimes(path, hdr);
    }

    /** Something exists at path: false to merge (directory onto directory), true after removing it to retry. */
    private boolean replaceExisting(Path path, char type, int attempt) throws IOException {
        FileStat existing = FileStat.lstatOrNull(path);
        if (existing != null && existing.isDir() && type == TarEntry.DIR) return false;
        if (attempt > 0) throw new IOException("cannot replace " + path + ": it keeps reappearing");
        removeAll(path);
        return true;
    }

    private void writeFile(Path path, TarEntry hdr) throws IOException {
        try (OutputStream out = Files.newOutputStream(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                LinkOption.NOFOLLOW_LINKS)) {
            long written = 0;
            for (int n; (n = readData(buffer)) > 0; ) {
                out.write(buffer, 0, n);
                written += n;
            }
            if (written != hdr.size()) {
                throw Errdefs.invalidArgument("invalid tar archive: %s: read %d of %d bytes", hdr.name(), written, hdr.size());
            }
        }
    }

    /**
     * The file a hardlink entry names, inside the root. The link's own last component is not followed (a
     * hardlink to a symlink links the symlink), the target must exist and must not be a directory.
     */
    private Path hardlinkTarget(TarEntry hdr) throws IOException {
        String ln = ArchivePaths.clean(hdr.linkName());
        if (ln.startsWith("/")) ln = ArchivePaths.clean(ln.substring(1));
        if (ArchivePaths.escapes(ln)) {
            throw Errdefs.invalidArgument("invalid hardlink %s -> %s: target escapes the root", hdr.name(), hdr.linkName());
        }
        int slash = ln.lastIndexOf('/');
        Path target = ln.equals(".") ? root
                : slash < 0 ? root.resolve(ln)
                : ArchivePaths.rootPath(root, ln.substring(0, slash)).resolve(ln.substring(slash + 1));
        FileStat st = FileStat.lstatOrNull(target);
        if (st == null) throw Errdefs.invalidArgument("invalid hardlink %s -> %s: target not found", hdr.name(), hdr.linkName());
        if (st.isDir()) throw Errdefs.invalidArgument("invalid hardlink %s -> %s: target is a directory", hdr.name(), hdr.linkName());
        return target;
    }

    private void setXattr(Path path, char type, String key, byte[] value) throws IOException {
        if (key.startsWith("trusted.")) {
            // admin attributes from archives are not honored (containerd: ENOTSUP, ignored)
            LOG.warning(() -> "ignored xattr " + key + " in archive: admin attributes from archive not supported");
            return;
        }
        try {
            ArchiveSyscalls.lsetxattr(path, key, value, 0);
        } catch (ErrnoException e) {
            // user.* exists only on regular files and directories; unsupported file systems are tolerated
            if ((e.errno() == ArchiveSyscalls.EPERM && key.startsWith("user.") && type != TarEntry.REG && type != TarEntry.DIR)
                    || e.errno() == ArchiveSyscalls.ENOTSUP) {
                LOG.warning(() -> "ignored xattr " + key + " in archive: " + e.getMessage());
                return;
            }
            throw new IOException("failed to setxattr %s for key %s: %s".formatted(path, key, e.getMessage()), e);
        }
    }

    /** atime is the later of atime and mtime; times outside what the kernel takes become the epoch. */
    private static void setTimes(Path path, TarEntry hdr) throws IOException {
        long mtime = bound(hdr.mtimeNanos());
        long atime = bound(Math.max(hdr.atimeNanos(), hdr.mtimeNanos()));
        ArchiveSyscalls.lutimes(path, atime, mtime);
    }

    private static long bound(long nanos) {
        return nanos < 0 ? 0 : nanos;
    }

    /**
     * Creates the missing directories of {@code dir} (already resolved inside the root) with 0755, or with the
     * owner, mode, times and xattrs of the same directory in the first of {@link ApplyOptions#parents()}.
     */
    private void mkparent(Path dir) throws IOException {
        FileStat st = FileStat.lstatOrNull(dir);
        if (st != null) {
            if (st.isDir()) return;
            throw new IOException("mkparent " + dir + ": not a directory");
        }
        Path up = dir.getParent();
        if (!up.equals(root) && up.startsWith(root)) mkparent(up);
        try {
            Files.createDirectory(dir);
        } catch (java.nio.file.FileAlreadyExistsException e) {
            FileStat again = FileStat.lstatOrNull(dir);
            if (again != null && again.isDir()) return;
            throw e;
        }
        ArchiveSyscalls.chmod(dir, 0755);
        String rel = root.relativize(dir).toString();
        for (Path p : options.parents()) {
            Path same = ArchivePaths.rootPath(p, rel);
            FileStat ps = FileStat.lstatOrNull(same);
            if (ps == null) continue;
            if (!ps.isDir()) break; // replaced in that layer: keep the defaults
            copyDirInfo(same, ps, dir);
            return;
        }
    }

    private static void copyDirInfo(Path from, FileStat st, Path to) throws IOException {
        ArchiveSyscalls.lchown(to, st.uid(), st.gid());
        ArchiveSyscalls.chmod(to, st.perm());
        ArchiveSyscalls.lutimes(to, st.atimeNanos(), st.mtimeNanos());
        for (String name : ArchiveSyscalls.llistxattr(from)) {
            if (name.startsWith("trusted.")) continue; // overlay's own attributes stay with the lower layer
            byte[] value = ArchiveSyscalls.lgetxattr(from, name);
            if (value == null) continue;
            try {
                ArchiveSyscalls.lsetxattr(to, name, value, ArchiveSyscalls.XATTR_CREATE);
            } catch (ErrnoException e) {
                if (e.errno() != ArchiveSyscalls.EEXIST) throw e;
            }
        }
    }

    /** Removes a file or a whole tree without following symlinks; a missing path is fine. */
    private void removeAll(Path path) throws IOException {
        invalidateDirCache();
        removeTree(path);
    }

    static void removeTree(Path path) throws IOException {
        FileStat st = FileStat.lstatOrNull(path);
        if (st == null) return;
        if (!st.isDir()) {
            Files.deleteIfExists(path);
            return;
        }
        Files.walkFileTree(path, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.deleteIfExists(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
                if (exc != null && !(exc instanceof NoSuchFileException)) throw exc;
                Files.deleteIfExists(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    private TarEntry next() throws IOException {
        try {
            return tar.nextEntry();
        } catch (IOException | IllegalArgumentException e) {
            throw malformed(e);
        }
    }

    private int readData(byte[] b) throws IOException {
        try {
            return tar.read(b, 0, b.length);
        } catch (IOException | IllegalArgumentException e) {
            throw malformed(e);
        }
    }

    /** Source failures pass through as they are; anything else the tar reader rejects is a bad archive. */
    private static IOException malformed(Exception e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof DigestingInputStream.SourceException s) return s.getCause();
        }
        throw Errdefs.invalidArgument("invalid tar archive: %s", e.getMessage());
    }

    /** Whether this process runs in a user namespace, where device nodes cannot be created. */
    static final class UserNs {
        static final boolean RUNNING = detect();

        private static boolean detect() {
            try {
                String map = Files.readString(Path.of("/proc/self/uid_map")).trim();
                return !map.matches("0\\s+0\\s+4294967295");
            } catch (IOException e) {
                return false;
            }
        }
    }
}
