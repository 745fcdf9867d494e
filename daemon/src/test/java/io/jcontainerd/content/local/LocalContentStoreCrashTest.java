package io.jcontainerd.content.local;

import static org.assertj.core.api.Assertions.assertThat;

import io.jcontainerd.content.Digest;
import io.jcontainerd.content.ReaderAt;
import io.jcontainerd.content.Status;
import io.jcontainerd.content.Writer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** kill -9 at random moments of a committing process never leaves a blob whose name is not its digest. */
class LocalContentStoreCrashTest {
    private static final String JAVA = "/usr/lib/jvm/temurin-25-jdk-amd64/bin/java";
    private static final int ROUNDS = 10;

    @TempDir
    Path root;

    @Test
    void killNineNeverLeavesABadBlob() throws Exception {
        int resumed = 0;
        int blobs = 0;
        for (int round = 0; round < ROUNDS; round++) {
            Process p = new ProcessBuilder(JAVA, "-Xshare:auto",
                    "-cp", System.getProperty("java.class.path"), CrashChild.class.getName(), root.toString())
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            try {
                var out = new BufferedReader(new InputStreamReader(p.getInputStream()));
                assertThat(out.readLine()).as("child start, round %d", round).isEqualTo("ready");
                Thread.sleep(ThreadLocalRandom.current().nextInt(10, 400));
                assertThat(p.isAlive()).as("child still committing").isTrue();
            } finally {
                p.destroyForcibly(); // SIGKILL
                p.waitFor(30, TimeUnit.SECONDS);
            }
            int[] counts = verify();
            blobs = counts[0];
            resumed += counts[1];
        }
        // a kill almost always lands inside an ingest (it exists from open to the end of commit)
        assertThat(resumed).as("ingests left by kills and resumed").isPositive();

        System.out.printf("crash test: %d blobs verified, %d ingests resumed after kills%n", blobs, resumed);
        assertThat(blobs).as("blobs committed by the children").isPositive();

        // the store still works after all that, and leftovers can be aborted
        LocalContentStore store = LocalContentStore.open(root);
        for (Status s : store.listStatuses(List.of())) store.abort(s.ref());
        assertThat(store.listStatuses(List.of())).isEmpty();
        byte[] b = "after the storm".getBytes();
        Digest d = Digest.sha256(MessageDigest.getInstance("SHA-256").digest(b));
        try (Writer w = store.writer("final", b.length, d)) {
            w.write(ByteBuffer.wrap(b));
            w.commit(b.length, d, Map.of());
        }
        assertThat(store.info(d).size()).isEqualTo(b.length);
    }

    /** Every blob's content hashes to its name and is read-only; every ingest resumes with the right digest. */
    /** Returns the number of blobs and of ingests. */
    private int[] verify() throws Exception {
        LocalContentStore store = LocalContentStore.open(root);
        Path blobs = root.resolve("blobs/sha256");
        int blobCount = 0;
        if (Files.isDirectory(blobs)) {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(blobs)) {
                for (Path p : ds) {
                    assertThat(p.getFileName().toString()).matches("[0-9a-f]{64}"); // no temp files in blobs/
                    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(p))).isEqualTo("r--r--r--");
                    Digest d = new Digest(Digest.SHA256, p.getFileName().toString());
                    assertThat(hash(store, d)).as("content of %s", p).isEqualTo(d);
                    blobCount++;
                }
            }
        }
        List<Status> statuses = store.listStatuses(List.of());
        for (Status s : statuses) {
            byte[] data = Files.readAllBytes(store.ingestDir(s.ref()).resolve("data"));
            assertThat(s.offset()).isEqualTo(data.length);
            try (Writer w = store.writer(s.ref(), 0, null)) {
                assertThat(w.status().offset()).isEqualTo(data.length);
                assertThat(w.digest()).isEqualTo(Digest.sha256(MessageDigest.getInstance("SHA-256").digest(data)));
            }
        }
        return new int[] {blobCount, statuses.size()};
    }

    private static Digest hash(LocalContentStore store, Digest d) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        ByteBuffer buf = ByteBuffer.allocate(1 << 20);
        try (ReaderAt r = store.readerAt(d)) {
            long off = 0;
            int n;
            while ((n = r.readAt(buf.clear(), off)) > 0) {
                md.update(buf.array(), 0, n);
                off += n;
            }
            assertThat(off).isEqualTo(r.size());
        }
        return Digest.sha256(md.digest());
    }
}
