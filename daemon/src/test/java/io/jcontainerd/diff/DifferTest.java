package io.jcontainerd.diff;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jcontainerd.archive.Applier;
import io.jcontainerd.archive.ApplyOptions;
import io.jcontainerd.archive.ApplyResult;
import io.jcontainerd.archive.ArchiveSyscalls;
import io.jcontainerd.archive.ChangeWriter;
import io.jcontainerd.archive.FileStat;
import io.jcontainerd.archive.TreeSnapshot;
import io.jcontainerd.archive.compression.Compression;
import io.jcontainerd.archive.compression.MediaTypes;
import io.jcontainerd.content.Digest;
import io.jcontainerd.errdefs.ContainerdException;
import io.jcontainerd.errdefs.ErrorKind;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DifferTest {
    static final long T = 1_600_000_000L * 1_000_000_000L;
    static final byte[] CAP = {1, 0, 0, 2, (byte) 0x80, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};

    @TempDir
    Path tmp;
    Path source;

    @BeforeEach
    void buildSource() throws IOException {
        source = Files.createDirectory(tmp.resolve("source"));
        mkdir("etc", 0755);
        write("etc/passwd", "root:x:0:0\n", 0644);
        write("etc/same-size", "aaaa", 0644);
        write("etc/untouched", "keep", 0600);
        mkdir("bin", 0755);
        write("bin/tool", "#!tool", 04755);
        ArchiveSyscalls.lsetxattr(source.resolve("bin/tool"), "security.capability", CAP, 0);
        Files.createLink(source.resolve("bin/tool-hardlink"), source.resolve("bin/tool"));
        write("bin/shared", "shared", 0644);
        Files.createLink(source.resolve("etc/shared-link"), source.resolve("bin/shared"));
        mkdir("var", 0755);
        mkdir("var/lib", 0700);
        mkdir("var/lib/deep", 0755);
        write("var/lib/deep/file", "deep", 0644);
        ArchiveSyscalls.symlink("../lib", source.resolve("var/ln"));
        ArchiveSyscalls.mknod(source.resolve("etc/null"), ArchiveSyscalls.S_IFCHR | 0666, 1, 3);
        ArchiveSyscalls.mknod(source.resolve("etc/fifo"), ArchiveSyscalls.S_IFIFO | 0600, 0, 0);
        mkdir("dir-to-file", 0755);
        write("dir-to-file/x", "x", 0644);
        write("file-to-dir", "f", 0644);
        String longDir = "l".repeat(150);
        mkdir(longDir, 0755);
        write(longDir + "/" + "m".repeat(200), "long", 0644);
        write("ünïcödé", "u", 0644);
        ArchiveSyscalls.lchown(source.resolve("etc/passwd"), 10, 20);
        fixTimes(source);
    }

    void mkdir(String p, int mode) throws IOException {
        Files.createDirectory(source.resolve(p));
        ArchiveSyscalls.chmod(source.resolve(p), mode);
    }

    void write(String p, String content, int mode) throws IOException {
        Files.writeString(source.resolve(p), content);
        ArchiveSyscalls.chmod(source.resolve(p), mode);
    }

    /** Gives every file a whole-second mtime, as a tree unpacked from layers has. */
    static void fixTimes(Path tree) throws IOException {
        try (Stream<Path> s = Files.walk(tree)) {
            for (Path p : s.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) {
                ArchiveSyscalls.lutimes(p, T, T);
            }
        }
    }

    /** A copy of a tree made by diffing it against nothing and applying the result. */
    Path copy(Path tree, String name) throws IOException {
        var tar = new ByteArrayOutputStream();
        ChangeWriter.writeDiff(null, tree, tar);
        Path target = Files.createDirectory(tmp.resolve(name));
        Applier.apply(target, new ByteArrayInputStream(tar.toByteArray()), ApplyOptions.plain());
        return target;
    }

    @Test
    void aFullCopyPreservesEverything() throws IOException {
        Path copy = copy(source, "copy");
        assertThat(TreeSnapshot.of(copy)).isEqualTo(TreeSnapshot.of(source));
    }

    @Test
    void diffThenApplyReproducesTheUpperTree() throws Exception {
        Path lower = copy(source, "lower");
        Path upper = copy(source, "upper");
        // changes
        Files.writeString(upper.resolve("etc/passwd"), "root:x:0:0\nuser:x:1000:1000\n");
        Files.writeString(upper.resolve("etc/same-size"), "bbbb"); // same size, same second: content decides
        ArchiveSyscalls.lutimes(upper.resolve("etc/same-size"), T, T);
        Files.delete(upper.resolve("etc/null"));
        deleteTree(upper.resolve("var/lib"));
        deleteTree(upper.resolve("dir-to-file"));
        Files.writeString(upper.resolve("dir-to-file"), "now a file");
        Files.delete(upper.resolve("file-to-dir"));
        Files.createDirectories(upper.resolve("file-to-dir/sub"));
        Files.writeString(upper.resolve("file-to-dir/sub/y"), "y");
        ArchiveSyscalls.chmod(upper.resolve("bin/tool"), 0700); // also the hardlink's mode
        ArchiveSyscalls.lsetxattr(upper.resolve("bin/tool"), "security.capability", CAP, 0);
        ArchiveSyscalls.lchown(upper.resolve("etc/untouched"), 5, 5);
        Files.createLink(upper.resolve("etc/new-link-to-shared"), upper.resolve("bin/shared")); // shared unmodified
        Files.delete(upper.resolve("var/ln"));
        ArchiveSyscalls.symlink("/etc/passwd", upper.resolve("var/ln"));
        ArchiveSyscalls.mknod(upper.resolve("etc/blk"), ArchiveSyscalls.S_IFBLK | 0600, 8, 1);
        Files.writeString(upper.resolve("new-" + "z".repeat(250)), "n");
        fixTimes(upper);

        var out = new ByteArrayOutputStream();
        DiffResult r = Differ.diff(lower, upper, out, MediaTypes.OCI_LAYER_GZIP);
        byte[] blob = out.toByteArray();
        byte[] tar = Compression.GZIP.openDecompressor(new ByteArrayInputStream(blob)).readAllBytes();
        assertThat(r.mediaType()).isEqualTo(MediaTypes.OCI_LAYER_GZIP);
        assertThat(r.size()).isEqualTo(blob.length);
        assertThat(r.digest()).isEqualTo(sha256(blob));
        assertThat(r.uncompressedDigest()).isEqualTo(sha256(tar));
        assertThat(r.uncompressedSize()).isEqualTo(tar.length);

        assertThat(entries(tar)).containsExactly(
                "bin/", "bin/tool", "bin/tool-hardlink -> bin/tool",
                "dir-to-file",
                // a new name for an unmodified hardlinked file brings its other names along as links
                "etc/", "etc/blk", "etc/new-link-to-shared", "bin/shared -> etc/new-link-to-shared", "etc/.wh.null", "etc/passwd", "etc/same-size",
                "etc/shared-link -> etc/new-link-to-shared", "etc/untouched",
                "file-to-dir/", "file-to-dir/sub/", "file-to-dir/sub/y",
                "new-" + "z".repeat(250),
                "var/", "var/.wh.lib", "var/ln");

        Path applied = copy(lower, "applied");
        ApplyResult ar = Applier.applyLayer(applied, new ByteArrayInputStream(blob), r.mediaType(), ApplyOptions.plain());
        assertThat(ar.digest()).isEqualTo(r.uncompressedDigest());
        assertThat(TreeSnapshot.of(applied)).isEqualTo(TreeSnapshot.of(upper));
    }

    @Test
    void identicalTreesGiveAnEmptyLayer() throws Exception {
        Path lower = copy(source, "lower");
        Path upper = copy(source, "upper");
        var out = new ByteArrayOutputStream();
        DiffResult r = Differ.diff(lower, upper, out, MediaTypes.OCI_LAYER);
        assertThat(out.toByteArray()).isEqualTo(new byte[1024]);
        assertThat(r.digest()).isEqualTo(r.uncompressedDigest());
        assertThat(r.size()).isEqualTo(1024);
    }

    @Test
    void zstdDiffsAndUnsupportedMediaTypes() throws Exception {
        Path lower = Files.createDirectory(tmp.resolve("empty"));
        var out = new ByteArrayOutputStream();
        DiffResult r = Differ.diff(lower, source, out, MediaTypes.OCI_LAYER_ZSTD);
        byte[] tar = Compression.decompress(new ByteArrayInputStream(out.toByteArray())).readAllBytes();
        assertThat(r.uncompressedDigest()).isEqualTo(sha256(tar));
        assertThat(r.digest()).isEqualTo(sha256(out.toByteArray()));
        assertThatThrownBy(() -> Differ.diff(lower, source, new ByteArrayOutputStream(), "application/vnd.docker.image.rootfs.diff.tar.gzip"))
                .isInstanceOfSatisfying(ContainerdException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.NOT_IMPLEMENTED));
    }

    @Test
    void overlayUpperdirAppliesMountToTheMergedView() throws Exception {
        // applying in overlay mode into an upperdir and mounting it gives the same tree as a plain apply
        Path lower = copy(source, "ovl-lower");
        Path upper = copy(source, "ovl-upper-src");
        deleteTree(upper.resolve("var"));
        Files.delete(upper.resolve("etc/passwd"));
        Files.writeString(upper.resolve("etc/added"), "a");
        fixTimes(upper);
        var out = new ByteArrayOutputStream();
        Differ.diff(lower, upper, out, MediaTypes.OCI_LAYER);

        Path upperdir = Files.createDirectory(tmp.resolve("upperdir"));
        Applier.apply(upperdir, new ByteArrayInputStream(out.toByteArray()), ApplyOptions.overlay(List.of(lower)));
        assertThat(FileStat.lstat(upperdir.resolve("var")).type()).isEqualTo(FileStat.S_IFCHR);
        assertThat(FileStat.lstat(upperdir.resolve("etc/passwd")).rdev()).isZero();
        assertThat(Files.readString(upperdir.resolve("etc/added"))).isEqualTo("a");
    }

    static void deleteTree(Path p) throws IOException {
        try (Stream<Path> s = Files.walk(p)) {
            for (Path x : s.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) Files.delete(x);
        }
    }

    static Digest sha256(byte[] b) throws Exception {
        return Digest.sha256(MessageDigest.getInstance("SHA-256").digest(b));
    }

    static List<String> entries(byte[] tar) throws IOException {
        List<String> out = new ArrayList<>();
        try (var in = new TarArchiveInputStream(new ByteArrayInputStream(tar))) {
            for (TarArchiveEntry e; (e = in.getNextEntry()) != null; ) {
                out.add(e.isLink() ? e.getName() + " -> " + e.getLinkName() : e.getName());
            }
        }
        return out;
    }
}
