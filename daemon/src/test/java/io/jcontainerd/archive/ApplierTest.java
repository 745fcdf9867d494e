package io.jcontainerd.archive;

import static org.assertj.core.api.Assertions.assertThat;

import io.jcontainerd.archive.compression.Compression;
import io.jcontainerd.archive.compression.MediaTypes;
import io.jcontainerd.content.Digest;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.List;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ApplierTest {
    @TempDir
    Path tmp;
    Path root;

    @BeforeEach
    void setUp() throws IOException {
        root = Files.createDirectory(tmp.resolve("root"));
    }

    static ApplyResult apply(Path root, byte[] tar, ApplyOptions o) throws IOException {
        return Applier.apply(root, new ByteArrayInputStream(tar), o);
    }

    static Digest sha256(byte[] b) throws Exception {
        return Digest.sha256(MessageDigest.getInstance("SHA-256").digest(b));
    }

    @Test
    void appliesAllEntryTypesWithMetadata() throws Exception {
        byte[] cap = {1, 0, 0, 2, (byte) 0x80, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
        String longName = "d/" + "x".repeat(120) + "/" + "y".repeat(150);
        byte[] tar = new Tars()
                .dir("d/", 0750, 1000, 1001)
                .file("d/suid", "#!/bin/sh\n", 04755, 1000, 1001, Map.of("user.note", "hi".getBytes(), "security.capability", cap))
                .file("d/sticky-dir-file", "", 0600, 0, 0, Map.of())
                .dir("d/tmp/", 01777, 0, 0)
                .symlink("d/link", "suid/")
                // hardlink headers carry the file's metadata (applied again to the shared inode)
                .entry(new TarWriter.Header("d/hard", '1', 04755, 1000, 1001, 0, Tars.MTIME, "d/suid", 0, 0,
                        Map.of("SCHILY.xattr.security.capability", cap)), null)
                .device("d/null", '3', 1, 3)
                .device("d/loop", '4', 7, 300)
                .fifo("d/fifo")
                .dir("d/" + "x".repeat(120) + "/")
                .file(longName, "long")
                .file("d/ünïcödé", "u")
                .bytes();
        ApplyResult r = apply(root, tar, ApplyOptions.plain());

        assertThat(r.size()).isEqualTo(tar.length);
        assertThat(r.digest()).isEqualTo(sha256(tar));
        FileStat d = FileStat.lstat(root.resolve("d"));
        assertThat(d.perm()).isEqualTo(0750);
        assertThat(d.uid()).isEqualTo(1000);
        assertThat(d.gid()).isEqualTo(1001);
        // directory times are set after their contents were created
        assertThat(d.mtimeNanos()).isEqualTo(Tars.MTIME * 1_000_000_000L);

        FileStat suid = FileStat.lstat(root.resolve("d/suid"));
        assertThat(suid.perm()).isEqualTo(04755);
        assertThat(suid.uid()).isEqualTo(1000);
        assertThat(suid.nlink()).isEqualTo(2);
        assertThat(suid.mtimeNanos()).isEqualTo(Tars.MTIME * 1_000_000_000L);
        assertThat(ArchiveSyscalls.lgetxattr(root.resolve("d/suid"), "user.note")).isEqualTo("hi".getBytes());
        assertThat(ArchiveSyscalls.lgetxattr(root.resolve("d/suid"), "security.capability")).isEqualTo(cap);
        assertThat(FileStat.lstat(root.resolve("d/hard")).ino()).isEqualTo(suid.ino());
        assertThat(FileStat.lstat(root.resolve("d/tmp")).perm()).isEqualTo(01777);
        assertThat(ArchiveSyscalls.readlink(root.resolve("d/link"))).isEqualTo("suid/");

        FileStat nul = FileStat.lstat(root.resolve("d/null"));
        assertThat(nul.type()).isEqualTo(FileStat.S_IFCHR);
        assertThat(ArchiveSyscalls.major(nul.rdev())).isEqualTo(1);
        assertThat(ArchiveSyscalls.minor(nul.rdev())).isEqualTo(3);
        FileStat loop = FileStat.lstat(root.resolve("d/loop"));
        assertThat(loop.type()).isEqualTo(FileStat.S_IFBLK);
        assertThat(ArchiveSyscalls.minor(loop.rdev())).isEqualTo(300);
        assertThat(FileStat.lstat(root.resolve("d/fifo")).type()).isEqualTo(FileStat.S_IFIFO);
        assertThat(Files.readString(root.resolve(longName))).isEqualTo("long");
        assertThat(Files.readString(root.resolve("d/ünïcödé"))).isEqualTo("u");
    }

    @Test
    void digestCoversTrailingDataAndEmptyStreams() throws Exception {
        byte[] tar = new Tars().file("a", "1").bytes();
        byte[] padded = java.util.Arrays.copyOf(tar, tar.length + 9216);
        ApplyResult r = apply(root, padded, ApplyOptions.plain());
        assertThat(r.size()).isEqualTo(padded.length);
        assertThat(r.digest()).isEqualTo(sha256(padded));
        assertThat(apply(root, new byte[0], ApplyOptions.plain()).size()).isZero();
    }

    @Test
    void readsGnuLongNamesAndLinks() throws Exception {
        var bytes = new ByteArrayOutputStream();
        String name = "g/" + "n".repeat(200);
        String link = "g/" + "t".repeat(200);
        try (var t = new TarArchiveOutputStream(bytes)) {
            t.setLongFileMode(TarArchiveOutputStream.LONGFILE_GNU);
            var dir = new TarArchiveEntry("g/");
            t.putArchiveEntry(dir);
            t.closeArchiveEntry();
            var f = new TarArchiveEntry(link);
            f.setSize(2);
            t.putArchiveEntry(f);
            t.write("ok".getBytes());
            t.closeArchiveEntry();
            var l = new TarArchiveEntry(name, TarArchiveEntry.LF_SYMLINK);
            l.setLinkName("t".repeat(200));
            t.putArchiveEntry(l);
            t.closeArchiveEntry();
        }
        apply(root, bytes.toByteArray(), ApplyOptions.plain());
        assertThat(ArchiveSyscalls.readlink(root.resolve(name))).isEqualTo("t".repeat(200));
        assertThat(Files.readString(root.resolve(name))).isEqualTo("ok");
    }

    @Test
    void mergesExistingDirectoriesAndReplacesEverythingElse() throws Exception {
        Files.createDirectories(root.resolve("keep"));
        Files.writeString(root.resolve("keep/old"), "old");
        Files.createDirectories(root.resolve("was-dir/sub"));
        Files.writeString(root.resolve("was-file"), "x");
        byte[] tar = new Tars()
                .dir("keep/", 0700, 5, 5)
                .file("was-dir", "now a file")
                .dir("was-file/")
                .bytes();
        apply(root, tar, ApplyOptions.plain());
        assertThat(Files.readString(root.resolve("keep/old"))).isEqualTo("old");
        assertThat(FileStat.lstat(root.resolve("keep")).perm()).isEqualTo(0700);
        assertThat(Files.readString(root.resolve("was-dir"))).isEqualTo("now a file");
        assertThat(Files.isDirectory(root.resolve("was-file"), LinkOption.NOFOLLOW_LINKS)).isTrue();
    }

    @Test
    void whiteoutsDeleteAndOpaqueDirectoriesKeepOnlyThisLayer() throws Exception {
        Files.createDirectories(root.resolve("opq/sub"));
        Files.writeString(root.resolve("opq/lower"), "l");
        Files.writeString(root.resolve("opq/sub/lower"), "l");
        Files.createDirectories(root.resolve("gone-dir/deep"));
        Files.writeString(root.resolve("gone"), "g");
        Files.writeString(root.resolve("stay"), "s");
        byte[] tar = new Tars()
                .file(".wh.gone", "")
                .file(".wh.gone-dir", "")
                .file(".wh.never-existed", "")
                .dir("opq/")
                .file("opq/new", "n")
                .dir("opq/sub/")
                .file("opq/sub/new", "n")
                .file("opq/.wh..wh..opq", "")
                .bytes();
        apply(root, tar, ApplyOptions.plain());
        assertThat(root.resolve("gone")).doesNotExist();
        assertThat(root.resolve("gone-dir")).doesNotExist();
        assertThat(root.resolve(".wh.gone")).doesNotExist();
        assertThat(root.resolve("stay")).exists();
        assertThat(names(root.resolve("opq"))).containsExactlyInAnyOrder("new", "sub");
        assertThat(names(root.resolve("opq/sub"))).containsExactly("new");
    }

    @Test
    void overlayModeWritesCharDeviceWhiteoutsAndOpaqueXattr() throws Exception {
        Path lower = Files.createDirectory(tmp.resolve("lower"));
        Files.createDirectories(lower.resolve("a/b"));
        ArchiveSyscalls.chmod(lower.resolve("a"), 0711);
        ArchiveSyscalls.lchown(lower.resolve("a"), 33, 44);
        ArchiveSyscalls.lsetxattr(lower.resolve("a"), "user.inherited", "v".getBytes(), 0);
        byte[] tar = new Tars()
                .entry(new TarWriter.Header("a/b/.wh.gone", '0', 0, 7, 8, 0, Tars.MTIME, "", 0, 0, null), null)
                .dir("o/")
                .file("o/.wh..wh..opq", "")
                .file("o/x", "x")
                .bytes();
        apply(root, tar, ApplyOptions.overlay(List.of(lower)));

        FileStat wh = FileStat.lstat(root.resolve("a/b/gone"));
        assertThat(wh.type()).isEqualTo(FileStat.S_IFCHR);
        assertThat(wh.rdev()).isZero();
        assertThat(wh.uid()).isEqualTo(7);
        assertThat(wh.gid()).isEqualTo(8);
        assertThat(root.resolve("o/.wh..wh..opq")).doesNotExist();
        assertThat(ArchiveSyscalls.lgetxattr(root.resolve("o"), "trusted.overlay.opaque")).isEqualTo("y".getBytes());
        assertThat(Files.readString(root.resolve("o/x"))).isEqualTo("x");
        // the implied parent takes its attributes from the lowerdir, not 0755 root
        FileStat a = FileStat.lstat(root.resolve("a"));
        assertThat(a.perm()).isEqualTo(0711);
        assertThat(a.uid()).isEqualTo(33);
        assertThat(ArchiveSyscalls.lgetxattr(root.resolve("a"), "user.inherited")).isEqualTo("v".getBytes());
        assertThat(FileStat.lstat(root.resolve("a/b")).perm()).isEqualTo(0755);
    }

    @Test
    void trustedXattrsFromArchivesAreIgnored() throws Exception {
        byte[] tar = new Tars().file("f", "x", 0644, 0, 0, Map.of("trusted.overlay.opaque", "y".getBytes())).bytes();
        apply(root, tar, ApplyOptions.plain());
        assertThat(ArchiveSyscalls.lgetxattr(root.resolve("f"), "trusted.overlay.opaque")).isNull();
    }

    @Test
    void appliesLayersByMediaType() throws Exception {
        byte[] tar = new Tars().file("f", "content").bytes();
        for (Compression c : Compression.values()) {
            var out = new ByteArrayOutputStream();
            try (OutputStream z = c.compress(out)) {
                z.write(tar);
            }
            String mt = switch (c) {
                case UNCOMPRESSED -> MediaTypes.OCI_LAYER;
                case GZIP -> MediaTypes.DOCKER_LAYER_GZIP;
                case ZSTD -> MediaTypes.OCI_LAYER_ZSTD;
            };
            Path target = Files.createDirectory(tmp.resolve("by-" + c));
            ApplyResult r = Applier.applyLayer(target, new ByteArrayInputStream(out.toByteArray()), mt, ApplyOptions.plain());
            assertThat(r.digest()).isEqualTo(sha256(tar));
            assertThat(Files.readString(target.resolve("f"))).isEqualTo("content");
        }
    }

    static List<String> names(Path dir) throws IOException {
        try (var s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).toList();
        }
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
