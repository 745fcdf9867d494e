package io.jcontainerd.archive;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/** Archives written by GNU tar (gnu and posix formats, sparse files, gzip and zstd) apply to the same tree. */
class GnuTarCompatibilityTest {
    @TempDir
    Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"gnu", "posix", "posix-gzip", "posix-zstd"})
    void appliesGnuTarArchives(String variant) throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/tar")), "GNU tar not installed");
        Path src = Files.createDirectory(tmp.resolve("src"));
        Files.createDirectories(src.resolve("a/" + "d".repeat(120)));
        Files.writeString(src.resolve("a/" + "d".repeat(120) + "/" + "f".repeat(200)), "long");
        Files.writeString(src.resolve("a/file"), "content");
        ArchiveSyscalls.chmod(src.resolve("a/file"), 02755);
        ArchiveSyscalls.lchown(src.resolve("a/file"), 1234, 5678);
        Files.createLink(src.resolve("a/hard"), src.resolve("a/file"));
        ArchiveSyscalls.symlink("file", src.resolve("a/sym"));
        ArchiveSyscalls.mknod(src.resolve("a/fifo"), ArchiveSyscalls.S_IFIFO | 0600, 0, 0);
        try (var sparse = new java.io.RandomAccessFile(src.resolve("a/sparse").toFile(), "rw")) {
            sparse.write("head".getBytes());
            sparse.seek(4 << 20);
            sparse.write("tail".getBytes());
            sparse.setLength(5 << 20);
        }
        ArchiveSyscalls.lsetxattr(src.resolve("a/file"), "user.k", new byte[] {1, (byte) 0xfe, 0}, 0);
        for (Path p : new Path[] {src.resolve("a/file"), src.resolve("a/sym"), src.resolve("a/fifo"), src.resolve("a/sparse"),
                src.resolve("a/" + "d".repeat(120) + "/" + "f".repeat(200)), src.resolve("a/" + "d".repeat(120)), src.resolve("a")}) {
            ArchiveSyscalls.lutimes(p, 1_500_000_000_000_000_000L, 1_500_000_000_000_000_000L);
        }
        String format = variant.startsWith("gnu") ? "gnu" : "posix";
        Path tar = tmp.resolve("layer.tar");
        var cmd = new java.util.ArrayList<>(java.util.List.of("tar", "--format=" + format, "--numeric-owner", "--xattrs", "--sparse",
                "--xattrs-include=*", "-C", src.toString(), "-cf", tar.toString()));
        if (variant.endsWith("gzip")) cmd.add(1, "--gzip");
        if (variant.endsWith("zstd")) cmd.add(1, "--zstd");
        if (format.equals("posix")) cmd.add(1, "--pax-option=delete=atime,delete=ctime");
        cmd.add("a");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as(out).isZero();

        Path root = Files.createDirectory(tmp.resolve("root"));
        try (InputStream in = Files.newInputStream(tar)) {
            Applier.applyLayer(root, in, variant.contains("-") ? "application/vnd.docker.image.rootfs.diff.tar" : "application/vnd.oci.image.layer.v1.tar",
                    ApplyOptions.plain());
        }
        var expected = TreeSnapshot.of(src);
        assertThat(TreeSnapshot.of(root)).isEqualTo(expected);
        if (format.equals("posix")) {
            assertThat(ArchiveSyscalls.lgetxattr(root.resolve("a/file"), "user.k")).isEqualTo(new byte[] {1, (byte) 0xfe, 0});
        }
    }
}
