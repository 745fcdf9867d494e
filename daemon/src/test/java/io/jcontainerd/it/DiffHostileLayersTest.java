package io.jcontainerd.it;

import static io.jcontainerd.testing.SnapshotClient.LAYER_TAR;
import static io.jcontainerd.testing.SnapshotClient.LAYER_TAR_GZIP;
import static io.jcontainerd.testing.SnapshotClient.withMounted;
import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.jcontainerd.testing.DaemonProcess;
import io.jcontainerd.testing.SnapshotClient;
import io.jcontainerd.testing.TarBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Hostile layers through the Diff service, onto overlayfs (applied straight into the upper dir) and native
 * (applied through a temporary mount): each is refused with InvalidArgument, or, where containerd scopes
 * the path instead of refusing it (absolute names, symlinks on the way), lands inside the snapshot. In every
 * case a sentinel directory outside the daemon's root is left exactly as it was.
 */
class DiffHostileLayersTest {
    static DaemonProcess daemon;
    static Path work;
    static Path sentinel;
    /** The sentinel's path relative to "/", and a ../ chain long enough to climb from any snapshot to "/". */
    static String sentinelRel;
    static final String CLIMB = "../".repeat(40);

    @BeforeAll
    static void start() throws Exception {
        work = Files.createTempDirectory(Path.of("/tmp"), "jcdh");
        sentinel = Files.createDirectory(work.resolve("sentinel"));
        sentinelRel = sentinel.toString().substring(1);
        daemon = DaemonProcess.start();
    }

    @AfterAll
    static void stop() {
        try {
            if (daemon != null) daemon.close();
        } finally {
            DaemonProcess.Cleanup.unmountUnder(work);
            DaemonProcess.Cleanup.deleteTree(work);
        }
    }

    @BeforeEach
    void resetSentinel() throws Exception {
        DaemonProcess.Cleanup.deleteTree(sentinel);
        Files.createDirectories(sentinel);
        Files.writeString(sentinel.resolve("secret"), "untouched");
    }

    /** A name, the layer, and whether it must be refused (true) or scoped into the snapshot (false). */
    static Stream<Arguments> hostile() {
        byte[] big = new byte[10_000];
        byte[] full = new TarBuilder().file("big", big, 0644, 0, 0).tar();
        String hugePax = TarBuilder.paxRecord("comment", "x".repeat(2 << 20));
        return Stream.of(
                Arguments.of("dotdot", new TarBuilder().file(CLIMB + sentinelRel + "/pwned", "x").tar(), true),
                Arguments.of("dotdot-inside-a-name", new TarBuilder().dir("a").file("a/" + CLIMB + sentinelRel + "/pwned", "x").tar(), true),
                Arguments.of("dotdot-directory", new TarBuilder().dir(CLIMB + sentinelRel + "/newdir").tar(), true),
                Arguments.of("hardlink-dotdot", new TarBuilder().hardlink("link", CLIMB + sentinelRel + "/secret").tar(), true),
                Arguments.of("hardlink-absolute", new TarBuilder().hardlink("link", "/" + sentinelRel + "/secret").tar(), true),
                Arguments.of("hardlink-through-symlink", new TarBuilder().symlink("s", "/" + sentinelRel)
                        .hardlink("link", "s/secret").tar(), true),
                Arguments.of("truncated-data", Arrays.copyOf(full, 512 + 4000), true),
                Arguments.of("truncated-header", Arrays.copyOf(full, 300), true),
                Arguments.of("huge-pax-header", new TarBuilder().paxHeader(hugePax.getBytes()).file("f", "x").tar(), true),
                Arguments.of("bad-checksum", corruptChecksum(new TarBuilder().file("f", "x").tar()), true),
                Arguments.of("absolute-name", new TarBuilder().file("/" + sentinelRel + "/pwned", "x").tar(), false),
                Arguments.of("symlink-then-write", new TarBuilder().symlink("evil", "/" + sentinelRel)
                        .file("evil/pwned", "x").tar(), false),
                Arguments.of("relative-symlink-then-write", new TarBuilder().symlink("evil", CLIMB + sentinelRel)
                        .file("evil/pwned", "x").tar(), false),
                Arguments.of("symlink-dir-then-dir", new TarBuilder().symlink("evil", "/" + sentinelRel)
                        .dir("evil/sub").file("evil/sub/pwned", "x").tar(), false));
    }

    static byte[] corruptChecksum(byte[] tar) {
        tar[148] = '7';
        return tar;
    }

    static List<String> sentinelEntries() throws Exception {
        try (var s = Files.list(sentinel)) {
            return s.map(p -> p.getFileName().toString()).toList();
        }
    }

    void assertSentinelUntouched() throws Exception {
        assertThat(sentinelEntries()).containsExactly("secret");
        assertThat(sentinel.resolve("secret")).hasContent("untouched");
        assertThat(Files.getAttribute(sentinel.resolve("secret"), "unix:nlink")).isEqualTo(1);
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("cases")
    void hostileLayer(String name, String sn, byte[] layer, boolean refused) throws Exception {
        SnapshotClient c = new SnapshotClient(daemon, sn, "hostile-" + sn);
        String key = name + "-active";
        // on a parent, so overlayfs applies into an upper dir above a lower one
        if (!c.list("name==base").contains("base")) {
            c.apply(new TarBuilder().dir("etc").file("etc/hostname", "box").tar(), LAYER_TAR, c.prepare("base-active", ""));
            c.commit("base", "base-active");
        }
        var mounts = c.prepare(key, "base");
        boolean gzip = name.startsWith("truncated");
        byte[] blob = gzip ? TarBuilder.gzip(layer) : layer;
        try {
            c.apply(blob, gzip ? LAYER_TAR_GZIP : LAYER_TAR, mounts);
            assertThat(refused).as("%s was applied", name).isFalse();
            withMounted(c.mounts(key), work, mnt -> {
                assertThat(mnt.resolve("etc/hostname")).hasContent("box");
                try (var walk = Files.walk(mnt)) {
                    assertThat(walk.filter(p -> p.getFileName().toString().equals("pwned")).toList())
                            .as("scoped into the snapshot").singleElement()
                            .satisfies(p -> assertThat(mnt.relativize(p).toString()).startsWith(sentinelRel));
                }
            });
        } catch (StatusRuntimeException e) {
            assertThat(refused).as("%s refused: %s", name, e.getStatus()).isTrue();
            assertThat(e.getStatus().getCode()).as(e.getStatus().toString()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        } finally {
            c.remove(key);
        }
        assertSentinelUntouched();
    }

    static Stream<Arguments> cases() {
        return hostile().flatMap(a -> Stream.of("overlayfs", "native").map(sn -> {
            Object[] v = a.get();
            return Arguments.of(v[0], sn, v[1], v[2]);
        }));
    }

    /** A compressed stream cut short is refused like a truncated tar. */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"overlayfs", "native"})
    void truncatedGzipIsInvalidArgument(String sn) throws Exception {
        SnapshotClient c = new SnapshotClient(daemon, sn, "gz-" + sn);
        byte[] random = new byte[200_000];
        new java.util.Random(7).nextBytes(random);
        byte[] gz = new TarBuilder().file("noise", random, 0644, 0, 0).tarGz();
        try {
            c.apply(Arrays.copyOf(gz, gz.length / 2), LAYER_TAR_GZIP, c.prepare("cut", ""));
            throw new AssertionError("a truncated gzip layer was applied");
        } catch (StatusRuntimeException e) {
            assertThat(e.getStatus().getCode()).as(e.getStatus().toString()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        } finally {
            c.remove("cut");
        }
    }
}
