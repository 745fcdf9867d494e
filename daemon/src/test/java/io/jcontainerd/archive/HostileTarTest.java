package io.jcontainerd.archive;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jcontainerd.errdefs.ContainerdException;
import io.jcontainerd.errdefs.ErrorKind;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Archives trying to write outside the root or to break the reader. Each either fails with InvalidArgument
 * or is contained in the root; in every case the sentinel directory next to the root is left untouched.
 */
class HostileTarTest {
    @TempDir
    Path tmp;
    Path root;
    Path outside;
    TreeMap<String, String> before;

    @BeforeEach
    void setUp() throws IOException {
        root = Files.createDirectory(tmp.resolve("root"));
        outside = Files.createDirectory(tmp.resolve("outside"));
        Files.writeString(outside.resolve("secret"), "sentinel");
        before = snapshot(tmp);
    }

    @AfterEach
    void sentinelUntouched() throws IOException {
        TreeMap<String, String> after = snapshot(tmp);
        after.keySet().removeIf(k -> k.startsWith("root/"));
        TreeMap<String, String> expected = new TreeMap<>(before);
        expected.keySet().removeIf(k -> k.startsWith("root/"));
        assertThat(after).isEqualTo(expected);
        assertThat(FileStat.lstat(outside.resolve("secret")).nlink()).isEqualTo(1);
        assertThat(FileStat.lstat(outside.resolve("secret")).perm()).isEqualTo(0644);
    }

    /** Everything below tmp with type and content, the sentinel's check. */
    static TreeMap<String, String> snapshot(Path base) throws IOException {
        TreeMap<String, String> m = new TreeMap<>();
        try (Stream<Path> s = Files.walk(base)) {
            for (Path p : s.toList()) {
                FileStat st = FileStat.lstat(p);
                String v = st.isRegular() ? "f:" + Files.readString(p) : st.isSymlink() ? "l:" + ArchiveSyscalls.readlink(p) : "t:" + st.type();
                m.put(base.relativize(p).toString(), v);
            }
        }
        return m;
    }

    void apply(byte[] tar) throws IOException {
        Applier.apply(root, new ByteArrayInputStream(tar), ApplyOptions.plain());
    }

    void rejected(byte[] tar, String message) {
        assertThatThrownBy(() -> apply(tar))
                .isInstanceOf(ContainerdException.class)
                .satisfies(e -> assertThat(((ContainerdException) e).kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT))
                .hasMessageContaining(message);
    }

    @Test
    void absolutePathsAreTakenRelativeToTheRoot() throws IOException {
        String abs = outside.resolve("pwned").toString();
        apply(new Tars().file(abs, "x").file("/top", "t").bytes());
        assertThat(Files.readString(root.resolve(abs.substring(1)))).isEqualTo("x");
        assertThat(Files.readString(root.resolve("top"))).isEqualTo("t");
    }

    @Test
    void dotDotEscapesAreRejected() {
        rejected(new Tars().file("../outside/pwned", "x").bytes(), "escapes the root");
        rejected(new Tars().file("a/../../outside/pwned", "x").bytes(), "escapes the root");
        rejected(new Tars().dir("../../").bytes(), "escapes the root");
    }

    @Test
    void writingThroughAnAbsoluteSymlinkStaysInTheRoot() throws IOException {
        apply(new Tars().symlink("evil", outside.toString()).file("evil/pwned", "x").bytes());
        assertThat(Files.readString(root.resolve(outside.toString().substring(1)).resolve("pwned"))).isEqualTo("x");
    }

    @Test
    void writingThroughARelativeSymlinkStaysInTheRoot() throws IOException {
        apply(new Tars().symlink("rel", "../../../../../../outside").file("rel/pwned", "x")
                .dir("rel/d/").symlink("rel/d/up", "../../../../..").file("rel/d/up/p2", "y").bytes());
        assertThat(Files.readString(root.resolve("outside/pwned"))).isEqualTo("x");
        assertThat(Files.readString(root.resolve("p2"))).isEqualTo("y");
    }

    @Test
    void aFileReplacingASymlinkDoesNotWriteThroughIt() throws IOException {
        apply(new Tars().symlink("link", outside.resolve("secret").toString()).file("link", "replaced").bytes());
        assertThat(FileStat.lstat(root.resolve("link")).isRegular()).isTrue();
        assertThat(Files.readString(root.resolve("link"))).isEqualTo("replaced");
    }

    @Test
    void preExistingSymlinksToTheOutsideAreNotFollowed() throws IOException {
        Files.createSymbolicLink(root.resolve("dirlink"), outside);
        Files.createSymbolicLink(root.resolve("filelink"), outside.resolve("secret"));
        apply(new Tars().file("dirlink/secret", "owned").dir("filelink/").file("filelink/x", "y").bytes());
        assertThat(Files.readString(root.resolve(outside.toString().substring(1)).resolve("secret"))).isEqualTo("owned");
        assertThat(Files.isDirectory(root.resolve("filelink"))).isTrue();
    }

    @Test
    void hardlinksOutsideTheRootAreRejected() {
        rejected(new Tars().hardlink("h", "../outside/secret").bytes(), "target escapes the root");
        rejected(new Tars().hardlink("h", outside.resolve("secret").toString()).bytes(), "target not found");
        rejected(new Tars().symlink("d", outside.toString()).hardlink("h", "d/secret").bytes(), "target not found");
        rejected(new Tars().dir("x/").hardlink("h", "x").bytes(), "target is a directory");
    }

    @Test
    void aHardlinkToASymlinkLinksTheSymlinkItself() throws IOException {
        apply(new Tars().symlink("s", outside.resolve("secret").toString()).hardlink("h", "s").bytes());
        assertThat(FileStat.lstat(root.resolve("h")).isSymlink()).isTrue();
    }

    @Test
    void symlinkLoopsAreRejected() {
        rejected(new Tars().symlink("a", "b").symlink("b", "a").file("a/x", "x").bytes(), "too many links");
    }

    @Test
    void hugePaxHeadersAreRejected() {
        byte[] body = new byte[(int) LayerTarReader.MAX_SPECIAL_SIZE + 512];
        Arrays.fill(body, (byte) 'a');
        byte[] tar = new Tars().raw(Tars.header("PaxHeaders.0/f", 'x', Tars.octalSize(body.length)))
                .raw(Tars.padded(body)).raw(Tars.header("f", '0', Tars.octalSize(0))).bytes();
        rejected(tar, "exceeds the 1048576 byte limit");
    }

    @Test
    void hugeGnuLongNamesAreRejected() {
        byte[] body = new byte[(int) LayerTarReader.MAX_SPECIAL_SIZE + 1];
        Arrays.fill(body, (byte) 'n');
        byte[] tar = new Tars().raw(Tars.header("././@LongLink", 'L', Tars.octalSize(body.length)))
                .raw(Tars.padded(body)).raw(Tars.header("f", '0', Tars.octalSize(0))).bytes();
        rejected(tar, "exceeds the 1048576 byte limit");
    }

    @Test
    void truncatedStreamsAreRejected() {
        byte[] full = new Tars().file("a", "x".repeat(3000)).file("b", "y").bytes();
        rejected(Arrays.copyOf(full, 512 + 1000), "invalid tar archive");   // inside a's data
        rejected(Arrays.copyOf(full, 512 + 3072 + 100), "truncated header"); // inside b's header
    }

    @Test
    void negativeAndMalformedSizesAreRejected() {
        byte[] negative = new byte[12];
        Arrays.fill(negative, (byte) 0xff); // base-256 -1
        rejected(new Tars().raw(Tars.header("f", '0', negative)).bytes(), "invalid tar archive");
        rejected(new Tars().raw(Tars.header("f", '0', "-0000000001\0".getBytes(StandardCharsets.US_ASCII))).bytes(),
                "invalid tar archive");
        byte[] pax = TarWriterTestSupport.pax("size", "-5");
        rejected(new Tars().raw(Tars.header("PaxHeaders.0/f", 'x', Tars.octalSize(pax.length))).raw(Tars.padded(pax))
                .raw(Tars.header("f", '0', Tars.octalSize(0))).bytes(), "invalid tar archive");
    }

    @Test
    void badChecksumsAreRejected() {
        byte[] tar = new Tars().file("a", "x").bytes();
        tar[0] = 'b';
        rejected(tar, "invalid tar archive");
    }

    @Test
    void whiteoutsNamingParentsAreRejected() {
        rejected(new Tars().dir("d/").file("d/.wh..", "").bytes(), "invalid whiteout name");
        rejected(new Tars().file(".wh.", "").bytes(), "invalid whiteout name");
    }

    @Test
    void unknownEntryTypesAreRejected() {
        rejected(new Tars().raw(Tars.header("f", 'Q', Tars.octalSize(0))).bytes(), "unhandled tar header type");
    }

    /** Small helpers for PAX bodies. */
    static final class TarWriterTestSupport {
        static byte[] pax(String key, String value) {
            try {
                return TarWriter.paxData(new java.util.LinkedHashMap<>(java.util.Map.of(key, value.getBytes(StandardCharsets.UTF_8))));
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
    }
}
