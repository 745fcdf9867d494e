package io.jcontainerd.content.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jcontainerd.content.ContentStore;
import io.jcontainerd.content.Digest;
import io.jcontainerd.content.Info;
import io.jcontainerd.content.ReaderAt;
import io.jcontainerd.content.Status;
import io.jcontainerd.content.Writer;
import io.jcontainerd.errdefs.ContainerdException;
import io.jcontainerd.errdefs.ErrorKind;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalContentStoreTest {
    @TempDir
    Path root;
    LocalContentStore store;

    @BeforeEach
    void open() throws IOException {
        store = LocalContentStore.open(root);
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static Digest digestOf(byte[] b) throws Exception {
        return Digest.sha256(MessageDigest.getInstance("SHA-256").digest(b));
    }

    static Digest put(ContentStore s, String ref, byte[] b) throws Exception {
        try (Writer w = s.writer(ref, b.length, null)) {
            w.write(ByteBuffer.wrap(b));
            w.commit(b.length, digestOf(b), Map.of());
        }
        return digestOf(b);
    }

    static byte[] readAll(ContentStore s, Digest d) throws IOException {
        try (ReaderAt r = s.readerAt(d)) {
            ByteBuffer b = ByteBuffer.allocate((int) r.size());
            r.readAt(b, 0);
            return b.array();
        }
    }

    static void assertKind(ErrorKind kind, ThrowingCallable call) {
        assertThatThrownBy(call).isInstanceOf(ContainerdException.class)
                .satisfies(e -> assertThat(((ContainerdException) e).kind()).isEqualTo(kind));
    }

    @Test
    void roundTripWithContainerdLayout() throws Exception {
        byte[] b = bytes("hello, content");
        Digest d;
        try (Writer w = store.writer("ref-1", b.length, null)) {
            w.write(ByteBuffer.wrap(b, 0, 5));
            Path ingest = store.ingestDir("ref-1");
            assertThat(ingest.getFileName().toString()).isEqualTo(HexFormat.of().formatHex(
                    MessageDigest.getInstance("SHA-256").digest(bytes("ref-1"))));
            assertThat(Files.readString(ingest.resolve("ref"))).isEqualTo("ref-1");
            assertThat(Files.readString(ingest.resolve("total"))).isEqualTo(Integer.toString(b.length));
            assertThat(Files.size(ingest.resolve("data"))).isEqualTo(5);
            // Go's RFC 3339 text, parseable back
            assertThat(StoreFiles.parseTime(Files.readString(ingest.resolve("startedat")))).isBeforeOrEqualTo(Instant.now());
            assertThat(Files.readString(ingest.resolve("updatedat"))).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d+)?(Z|[+-]\\d\\d:\\d\\d)");
            w.write(ByteBuffer.wrap(b, 5, b.length - 5));
            Status st = w.status();
            assertThat(st.ref()).isEqualTo("ref-1");
            assertThat(st.offset()).isEqualTo(b.length);
            assertThat(st.total()).isEqualTo(b.length);
            assertThat(st.updatedAt()).isAfterOrEqualTo(st.startedAt());
            d = w.digest();
            assertThat(d).isEqualTo(digestOf(b));
            w.commit(b.length, d, Map.of("a", "b"));
        }
        Path blob = root.resolve("blobs/sha256/" + d.hex());
        assertThat(blob).exists();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(blob))).isEqualTo("r--r--r--");
        assertThat(store.ingestDir("ref-1")).doesNotExist();
        assertThat(readAll(store, d)).isEqualTo(b);
        Info info = store.info(d);
        assertThat(info.size()).isEqualTo(b.length);
        assertThat(info.labels()).isEmpty(); // the local store keeps no labels
        assertThat(store.listStatuses(List.of())).isEmpty();
    }

    @Test
    void largeRandomBlob() throws Exception {
        long size = 200L << 20;
        int chunk = 1 << 20;
        SplittableRandom rnd = new SplittableRandom(42);
        byte[] heap = new byte[chunk];
        ByteBuffer direct = ByteBuffer.allocateDirect(chunk);
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        long t0 = System.nanoTime();
        Digest d;
        try (Writer w = store.writer("big", size, null)) {
            for (long done = 0; done < size; done += chunk) {
                rnd.nextBytes(heap);
                md.update(heap);
                direct.clear().put(heap).flip();
                w.write(direct);
            }
            d = Digest.sha256(md.digest());
            w.commit(size, d, Map.of());
        }
        long t1 = System.nanoTime();
        MessageDigest check = MessageDigest.getInstance("SHA-256");
        try (ReaderAt r = store.readerAt(d)) {
            assertThat(r.size()).isEqualTo(size);
            long off = 0;
            while (true) {
                direct.clear();
                int n = r.readAt(direct, off);
                if (n < 0) break;
                direct.flip();
                check.update(direct);
                off += n;
            }
            assertThat(off).isEqualTo(size);
        }
        long t2 = System.nanoTime();
        assertThat(Digest.sha256(check.digest())).isEqualTo(d);
        System.out.printf("200 MiB: write+commit %.0f MiB/s (incl. generating data), read+hash %.0f MiB/s%n",
                200 / ((t1 - t0) / 1e9), 200 / ((t2 - t1) / 1e9));
    }

    @Test
    void resumeAfterClose() throws Exception {
        byte[] b = bytes("0123456789abcdefghij");
        try (Writer w = store.writer("r", 0, null)) {
            w.write(ByteBuffer.wrap(b, 0, 7));
        }
        Status s = store.status("r");
        assertThat(s.offset()).isEqualTo(7);
        assertThat(s.total()).isZero();
        assertThat(store.listStatuses(List.of())).extracting(Status::ref).containsExactly("r");
        try (Writer w = store.writer("r", b.length, null)) {
            assertThat(w.status().offset()).isEqualTo(7);
            assertThat(w.status().startedAt()).isEqualTo(s.startedAt());
            assertThat(w.digest()).isEqualTo(digestOf(java.util.Arrays.copyOf(b, 7)));
            w.write(ByteBuffer.wrap(b, 7, b.length - 7));
            w.commit(b.length, digestOf(b), Map.of());
        }
        assertThat(readAll(store, digestOf(b))).isEqualTo(b);
    }

    @Test
    void resumeAfterSimulatedCrash() throws Exception {
        // what a killed writer leaves: data, ref, timestamps, a half-written temp file; no lock held
        byte[] b = bytes("partial data that survived a crash, and the rest");
        Path dir = store.ingestDir("crashed");
        Files.createDirectories(dir);
        Files.write(dir.resolve("data"), java.util.Arrays.copyOf(b, 20));
        Files.writeString(dir.resolve("ref"), "crashed");
        Files.writeString(dir.resolve("startedat"), "2024-05-06T07:08:09.123456789Z");
        Files.writeString(dir.resolve("updatedat"), "2024-05-06T07:08:10Z");
        Files.writeString(dir.resolve("updatedat.tmp"), "2024-05");
        Files.writeString(dir.resolve("total"), Integer.toString(b.length));
        Path empty = store.ingestDir("committed-but-not-removed");
        Files.createDirectories(empty);
        Files.writeString(empty.resolve("ref"), "committed-but-not-removed");

        store = LocalContentStore.open(root); // boot
        assertThat(dir.resolve("updatedat.tmp")).doesNotExist();
        assertThat(empty).doesNotExist();
        Status s = store.status("crashed");
        assertThat(s.offset()).isEqualTo(20);
        assertThat(s.total()).isEqualTo(b.length);
        assertThat(s.startedAt()).isEqualTo(Instant.parse("2024-05-06T07:08:09.123456789Z"));
        assertThat(s.updatedAt()).isAfter(Instant.parse("2024-05-06T07:08:10Z")); // the data's mtime
        try (Writer w = store.writer("crashed", 0, null)) {
            assertThat(w.status().offset()).isEqualTo(20);
            assertThat(w.status().total()).isEqualTo(b.length);
            w.write(ByteBuffer.wrap(b, 20, b.length - 20));
            w.commit(b.length, digestOf(b), Map.of());
        }
        assertThat(readAll(store, digestOf(b))).isEqualTo(b);
    }

    @Test
    void resumeOfReadOnlyDataLeftByInterruptedCommit() throws Exception {
        byte[] b = bytes("abc");
        try (Writer w = store.writer("ro", 0, null)) {
            w.write(ByteBuffer.wrap(b));
        }
        Files.setPosixFilePermissions(store.ingestDir("ro").resolve("data"), PosixFilePermissions.fromString("r--r--r--"));
        try (Writer w = store.writer("ro", 0, null)) {
            w.write(ByteBuffer.wrap(bytes("def")));
            w.commit(6, digestOf(bytes("abcdef")), Map.of());
        }
        assertThat(readAll(store, digestOf(bytes("abcdef")))).isEqualTo(bytes("abcdef"));
    }

    @Test
    void wrongDigestKeepsIngestAndWriter() throws Exception {
        byte[] b = bytes("some bytes");
        Writer w = store.writer("wd", 0, null);
        try {
            w.write(ByteBuffer.wrap(b));
            Digest wrong = digestOf(bytes("other"));
            assertKind(ErrorKind.FAILED_PRECONDITION, () -> w.commit(0, wrong, Map.of()));
            assertThatThrownBy(() -> w.commit(0, wrong, Map.of())).hasMessageContaining("unexpected commit digest " + digestOf(b));
            assertThat(store.status("wd").offset()).isEqualTo(b.length);
            assertThat(store.listStatuses(List.of())).hasSize(1);
            // the writer is still usable: restart from scratch and commit the intended content
            w.truncate(0);
            assertThat(w.status().offset()).isZero();
            w.write(ByteBuffer.wrap(bytes("other")));
            w.commit(5, wrong, Map.of());
        } finally {
            w.close();
        }
        assertThat(readAll(store, digestOf(bytes("other")))).isEqualTo(bytes("other"));
        assertThat(store.listStatuses(List.of())).isEmpty();
    }

    @Test
    void wrongSizeKeepsIngest() throws Exception {
        byte[] b = bytes("12345");
        try (Writer w = store.writer("ws", 0, null)) {
            w.write(ByteBuffer.wrap(b));
            assertKind(ErrorKind.FAILED_PRECONDITION, () -> w.commit(4, null, Map.of()));
            assertThatThrownBy(() -> w.commit(6, null, Map.of())).hasMessage("unexpected commit size 5, expected 6: failed precondition");
        }
        assertThat(store.status("ws").offset()).isEqualTo(5);
        try (Writer w = store.writer("ws", 0, null)) {
            w.commit(5, null, Map.of());
        }
        assertThat(store.info(digestOf(b)).size()).isEqualTo(5);
    }

    @Test
    void truncateToMiddleRecomputesDigest() throws Exception {
        try (Writer w = store.writer("t", 0, null)) {
            w.write(ByteBuffer.wrap(bytes("abcdef")));
            w.truncate(3);
            assertThat(w.digest()).isEqualTo(digestOf(bytes("abc")));
            w.write(ByteBuffer.wrap(bytes("xyz")));
            w.commit(6, digestOf(bytes("abcxyz")), Map.of());
            assertKind(ErrorKind.FAILED_PRECONDITION, () -> w.write(ByteBuffer.wrap(bytes("late"))));
        }
    }

    @Test
    void alreadyExists() throws Exception {
        byte[] b = bytes("dup");
        Digest d = put(store, "first", b);
        assertKind(ErrorKind.ALREADY_EXISTS, () -> store.writer("second", b.length, d));
        assertThat(store.listStatuses(List.of())).isEmpty();
        // the ref lock was released by the failed open
        try (Writer w = store.writer("second", 0, null)) {
            w.write(ByteBuffer.wrap(b));
            assertKind(ErrorKind.ALREADY_EXISTS, () -> w.commit(b.length, d, Map.of()));
        }
        assertThat(store.ingestDir("second")).doesNotExist();
        assertThat(readAll(store, d)).isEqualTo(b);
    }

    @Test
    void concurrentWriterOnSameRefIsUnavailable() throws Exception {
        try (Writer w = store.writer("locked", 0, null)) {
            assertKind(ErrorKind.UNAVAILABLE, () -> store.writer("locked", 0, null));
            // a second instance over the same root shares the process-wide locks
            LocalContentStore other = LocalContentStore.open(root);
            assertThatThrownBy(() -> other.writer("locked", 0, null)).hasMessageMatching("ref locked locked for .+ \\(since .+\\): unavailable");
            try (Writer x = store.writer("other-ref", 0, null)) {
                assertThat(x.status().ref()).isEqualTo("other-ref");
            }
        }
        try (Writer w = store.writer("locked", 0, null)) {
            assertThat(w.status().offset()).isZero();
        }
    }

    @Test
    void abort() throws Exception {
        try (Writer w = store.writer("ab", 0, null)) {
            w.write(ByteBuffer.wrap(bytes("x")));
        }
        store.abort("ab");
        assertThat(store.ingestDir("ab")).doesNotExist();
        assertKind(ErrorKind.NOT_FOUND, () -> store.status("ab"));
        assertKind(ErrorKind.NOT_FOUND, () -> store.abort("ab"));
    }

    @Test
    void walkFiltersAndIgnoresStrays() throws Exception {
        Digest a = put(store, "a", bytes("aaa"));
        Digest b = put(store, "b", bytes("bbbb"));
        Files.writeString(root.resolve("blobs/sha256/not-a-digest"), "x");
        Files.writeString(root.resolve("blobs/sha256/" + "A".repeat(64)), "x");
        Files.createDirectories(root.resolve("blobs/sha512"));
        Files.writeString(root.resolve("blobs/stray"), "x");

        List<Digest> all = new ArrayList<>();
        store.walk(List.of(), i -> all.add(i.digest()));
        assertThat(all).containsExactlyInAnyOrder(a, b);

        List<Info> one = new ArrayList<>();
        store.walk(List.of("digest==" + b), one::add);
        assertThat(one).extracting(Info::digest).containsExactly(b);
        assertThat(one.getFirst().size()).isEqualTo(4);

        List<Digest> either = new ArrayList<>();
        store.walk(List.of("digest==" + a, "digest~=^sha256:nomatch"), i -> either.add(i.digest()));
        assertThat(either).containsExactly(a);

        List<Digest> none = new ArrayList<>();
        store.walk(List.of("labels.foo==bar"), i -> none.add(i.digest()));
        store.walk(List.of("size==3"), i -> none.add(i.digest())); // containerd never matches on size
        assertThat(none).isEmpty();
        assertKind(ErrorKind.INVALID_ARGUMENT, () -> store.walk(List.of("digest=="), i -> {}));
    }

    @Test
    void walkOfEmptyStore() throws Exception {
        store.walk(List.of(), i -> { throw new AssertionError(i); });
    }

    @Test
    void listStatusesFiltersOnRef() throws Exception {
        for (String ref : List.of("layer-1", "layer-2", "config")) {
            try (Writer w = store.writer(ref, 0, null)) {
                w.write(ByteBuffer.wrap(bytes(ref)));
            }
        }
        assertThat(store.listStatuses(List.of())).hasSize(3);
        assertThat(store.listStatuses(List.of("ref~=^layer-"))).extracting(Status::ref).containsExactlyInAnyOrder("layer-1", "layer-2");
        assertThat(store.listStatuses(List.of("ref==config"))).extracting(Status::offset).containsExactly(6L);
    }

    @Test
    void statusShowsExpectedWhileOpen() throws Exception {
        Digest d = digestOf(bytes("e"));
        try (Writer w = store.writer("exp", 1, d)) {
            assertThat(w.status().expected()).isEqualTo(d);
            assertThat(store.status("exp").expected()).isEqualTo(d);
        }
        assertThat(store.status("exp").expected()).isNull();
    }

    @Test
    void deleteAndNotFound() throws Exception {
        Digest d = put(store, "d", bytes("delete me"));
        store.delete(d);
        assertKind(ErrorKind.NOT_FOUND, () -> store.delete(d));
        assertKind(ErrorKind.NOT_FOUND, () -> store.info(d));
        assertKind(ErrorKind.NOT_FOUND, () -> store.readerAt(d));
        assertKind(ErrorKind.NOT_FOUND, () -> store.status("never"));
    }

    @Test
    void updateIsNotSupportedWithoutLabelStore() throws Exception {
        Digest d = put(store, "u", bytes("u"));
        Info i = store.info(d);
        assertKind(ErrorKind.FAILED_PRECONDITION, () -> store.update(i, List.of("labels")));
    }

    @Test
    void invalidArguments() {
        assertKind(ErrorKind.INVALID_ARGUMENT, () -> Digest.parse("sha512:" + "a".repeat(128)));
        assertThatThrownBy(() -> Digest.parse("md5:abc")).hasMessageContaining("only sha256");
        assertKind(ErrorKind.INVALID_ARGUMENT, () -> Digest.parse("sha256:xyz"));
        assertKind(ErrorKind.INVALID_ARGUMENT, () -> store.writer("", 0, null));
    }

    @Test
    void readAtOffsets() throws Exception {
        byte[] b = bytes("0123456789");
        Digest d = put(store, "o", b);
        try (ReaderAt r = store.readerAt(d)) {
            assertThat(r.size()).isEqualTo(10);
            ByteBuffer buf = ByteBuffer.allocate(4);
            assertThat(r.readAt(buf, 3)).isEqualTo(4);
            assertThat(new String(buf.array(), StandardCharsets.UTF_8)).isEqualTo("3456");
            buf.clear();
            assertThat(r.readAt(buf, 8)).isEqualTo(2);
            assertThat(buf.position()).isEqualTo(2);
            buf.clear();
            assertThat(r.readAt(buf, 10)).isEqualTo(-1);
            ByteBuffer direct = ByteBuffer.allocateDirect(10);
            assertThat(r.readAt(direct, 0)).isEqualTo(10);
            assertKind(ErrorKind.INVALID_ARGUMENT, () -> r.readAt(ByteBuffer.allocate(1), -1));
        }
    }

    @Test
    void goDurationFormat() {
        assertThat(RefLocks.goDuration(java.time.Duration.ofNanos(1_500_000))).isEqualTo("1.5ms");
        assertThat(RefLocks.goDuration(java.time.Duration.ofNanos(999))).isEqualTo("999ns");
        assertThat(RefLocks.goDuration(java.time.Duration.ofMillis(123_250))).isEqualTo("2m3.25s");
        assertThat(RefLocks.goDuration(java.time.Duration.ofSeconds(3605))).isEqualTo("1h0m5s");
    }
}
