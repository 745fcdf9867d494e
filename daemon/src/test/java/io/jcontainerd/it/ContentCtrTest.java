package io.jcontainerd.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.jcontainerd.api.services.content.v1.ContentGrpc;
import io.jcontainerd.api.services.content.v1.StatusRequest;
import io.jcontainerd.testing.Ctr;
import io.jcontainerd.testing.DaemonProcess;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code ctr content} and {@code ctr leases} against a real jcontainerd with its local content store. */
class ContentCtrTest {
    static DaemonProcess daemon;
    static Path work;

    @BeforeAll
    static void start() throws Exception {
        // ctr 1.6 keeps no lease on what `content ingest` wrote, so those blobs are garbage as soon as a
        // collection runs, which a deletion or enough mutations in another test would schedule. This
        // class checks what ingest leaves visible, so automatic collections are kept out of its way
        // (explicit ones, e.g. `leases rm --sync`, still run); GcCtrTest covers collection itself.
        daemon = DaemonProcess.start(DaemonProcess.WITHOUT_AUTOMATIC_GC);
        work = Files.createTempDirectory(Path.of("/tmp"), "jcdc");
    }

    @AfterAll
    static void stop() {
        if (daemon != null) daemon.close();
        if (work != null) DaemonProcess.Cleanup.deleteTree(work);
    }

    static Ctr.Result ctr(String ns, String... args) {
        List<String> all = new ArrayList<>(List.of("-n", ns));
        all.addAll(List.of(args));
        return Ctr.run(daemon.address(), all.toArray(String[]::new));
    }

    static Process start(String ns, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Ctr.BINARY, "--address", daemon.address(), "-n", ns));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).start();
    }

    /** Runs ctr with {@code stdin} as its standard input (a regular file, so ctr can seek it to resume). */
    static Ctr.Result runWithFile(Path stdin, String ns, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Ctr.BINARY, "--address", daemon.address(), "-n", ns));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectInput(stdin.toFile()).start();
        return collect(p);
    }

    static Ctr.Result collect(Process p) throws Exception {
        byte[][] streams = new byte[2][];
        Thread o = Thread.ofVirtual().start(() -> streams[0] = readAll(p.getInputStream()));
        Thread e = Thread.ofVirtual().start(() -> streams[1] = readAll(p.getErrorStream()));
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            throw new AssertionError("ctr timed out");
        }
        o.join();
        e.join();
        return new Ctr.Result(p.exitValue(), new String(streams[0], StandardCharsets.UTF_8), new String(streams[1], StandardCharsets.UTF_8));
    }

    static byte[] readAll(InputStream in) {
        try (in) {
            return in.readAllBytes();
        } catch (IOException ex) {
            return new byte[0];
        }
    }

    static Path file(String name, byte[] data) throws IOException {
        return Files.write(work.resolve(name), data);
    }

    static String sha256(byte[] data) throws Exception {
        return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    }

    static String sha256(Path f) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (InputStream in = Files.newInputStream(f)) {
            byte[] buf = new byte[1 << 20];
            int n;
            while ((n = in.read(buf)) > 0) md.update(buf, 0, n);
        }
        return "sha256:" + HexFormat.of().formatHex(md.digest());
    }

    static void await(BooleanSupplier cond, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting for " + what);
            Thread.sleep(50);
        }
    }

    /** The ingest's offset as the Content service reports it, or -1 when there is no such ingest. */
    static long offsetOf(String ns, String ref) {
        try {
            return DaemonProcess.inNamespace(ContentGrpc.newBlockingStub(daemon.channel()), ns)
                    .status(StatusRequest.newBuilder().setRef(ref).build()).getStatus().getOffset();
        } catch (io.grpc.StatusRuntimeException e) {
            return -1;
        }
    }

    @Test
    void ingestListGetLabelAndRemove() throws Exception {
        byte[] data = "hello from jcontainerd\n".getBytes(StandardCharsets.UTF_8);
        String dgst = sha256(data);
        runWithFile(file("hello", data), "c1", "content", "ingest", "hello-ref").assertOk();

        assertThat(ctr("c1", "content", "ls", "-q").assertOk().stdout().trim()).isEqualTo(dgst);
        assertThat(ctr("c1", "content", "ls").assertOk().stdout()).contains("DIGEST", "SIZE", "AGE", "LABELS")
                .containsPattern(dgst + "\\s+23B\\s+.+\\s+-");
        assertThat(ctr("c1", "content", "get", dgst).assertOk().stdout()).isEqualTo(new String(data, StandardCharsets.UTF_8));

        var label = ctr("c1", "content", "label", dgst, "a=1", "b=2").assertOk();
        assertThat(label.stdout().trim().split(",")).containsExactlyInAnyOrder("a=1", "b=2");
        assertThat(ctr("c1", "content", "label", dgst, "a=").assertOk().stdout().trim()).isEqualTo("b=2");
        assertThat(ctr("c1", "content", "ls").assertOk().stdout()).containsPattern(dgst + "\\s+23B\\s+.+\\s+b=2");
        assertThat(ctr("c1", "content", "ls", "-q", "labels.b==2").assertOk().stdout().trim()).isEqualTo(dgst);
        assertThat(ctr("c1", "content", "ls", "-q", "labels.b==3").assertOk().stdout()).isBlank();

        // the namespace cannot go while it holds the blob
        var rmNs = ctr("c1", "namespaces", "rm", "c1");
        assertThat(rmNs.exitCode()).isNotZero();
        assertThat(rmNs.stderr()).contains("namespace \"c1\" must be empty, but it still has blobs").contains("failed precondition");

        assertThat(ctr("c1", "content", "rm", dgst).assertOk().stdout().trim()).isEqualTo(dgst);
        assertThat(ctr("c1", "content", "ls", "-q").assertOk().stdout()).isBlank();
        var get = ctr("c1", "content", "get", dgst);
        assertThat(get.exitCode()).isNotZero();
        assertThat(get.stderr()).contains("not found");

        // nor while a lease is open in it
        ctr("c1", "leases", "create", "--id", "busy-lease").assertOk();
        var rmLeased = ctr("c1", "namespaces", "rm", "c1");
        assertThat(rmLeased.exitCode()).isNotZero();
        assertThat(rmLeased.stderr()).contains("namespace \"c1\" must be empty, but it still has leases");
        ctr("c1", "leases", "rm", "busy-lease").assertOk();
        ctr("c1", "namespaces", "rm", "c1").assertOk();
    }

    @Test
    void blobsAreVisibleOnlyInTheNamespacesThatIngestedThem() throws Exception {
        byte[] data = "namespaced blob".getBytes(StandardCharsets.UTF_8);
        String dgst = sha256(data);
        Path f = file("nsblob", data);
        runWithFile(f, "iso-a", "content", "ingest", "r").assertOk();
        assertThat(ctr("iso-b", "content", "ls", "-q").assertOk().stdout()).doesNotContain(dgst);
        var get = ctr("iso-b", "content", "get", dgst);
        assertThat(get.exitCode()).isNotZero();
        assertThat(get.stderr()).contains("not found");

        // under the default "shared" policy, B's ingest of known bytes completes by adopting the blob
        runWithFile(f, "iso-b", "content", "ingest", "--expected-digest", dgst, "r").assertOk();
        assertThat(ctr("iso-b", "content", "ls", "-q").assertOk().stdout().trim()).isEqualTo(dgst);
        assertThat(ctr("iso-b", "content", "get", dgst).assertOk().stdout()).isEqualTo("namespaced blob");

        ctr("iso-a", "content", "rm", dgst).assertOk();
        assertThat(ctr("iso-a", "content", "ls", "-q").assertOk().stdout()).isBlank();
        assertThat(ctr("iso-b", "content", "get", dgst).assertOk().stdout()).isEqualTo("namespaced blob");
        // ingesting again what the namespace has is a no-op for ctr
        runWithFile(f, "iso-b", "content", "ingest", "--expected-digest", dgst, "again").assertOk();
        assertThat(ctr("iso-b", "content", "active").assertOk().stdout()).doesNotContain("again");
    }

    @Test
    void aKilledLargeIngestResumesWithTheSameRef() throws Exception {
        int size = 200 << 20;
        Path big = work.resolve("big");
        byte[] chunk = new byte[1 << 20];
        Random rnd = new Random(42);
        try (OutputStream out = Files.newOutputStream(big)) {
            for (int i = 0; i < size / chunk.length; i++) {
                rnd.nextBytes(chunk);
                out.write(chunk);
            }
        }
        String dgst = sha256(big);
        String ns = "resume";
        String ref = "big-ref";

        // first attempt: feed half of the file through a pipe, then kill ctr mid-transfer
        Process first = start(ns, "content", "ingest", "--expected-size", String.valueOf(size), "--expected-digest", dgst, ref);
        Thread feeder = Thread.ofVirtual().start(() -> {
            try (InputStream in = Files.newInputStream(big)) {
                OutputStream stdin = first.getOutputStream();
                stdin.write(in.readNBytes(size / 2));
                stdin.flush();
            } catch (IOException ignored) {
                // ctr was killed
            }
        });
        try {
            await(() -> offsetOf(ns, ref) >= size / 2 - (2 << 20), "half of the ingest to arrive");
            assertThat(ctr(ns, "content", "active").assertOk().stdout()).contains(ref);
        } finally {
            first.destroyForcibly().waitFor();
            feeder.join();
        }
        long kept = offsetOf(ns, ref);
        assertThat(kept).isBetween((long) size / 2 - (2 << 20), (long) size / 2);
        assertThat(ctr(ns, "content", "ls", "-q").assertOk().stdout()).doesNotContain(dgst);

        // the second attempt seeks its input past what the store has and completes the blob
        runWithFile(big, ns, "content", "ingest", "--expected-size", String.valueOf(size), "--expected-digest", dgst, ref).assertOk();
        assertThat(ctr(ns, "content", "ls", "-q").assertOk().stdout().trim()).isEqualTo(dgst);
        assertThat(ctr(ns, "content", "active").assertOk().stdout()).doesNotContain(ref);

        Path back = work.resolve("big.out");
        List<String> cmd = List.of(Ctr.BINARY, "--address", daemon.address(), "-n", ns, "content", "get", dgst);
        Process get = new ProcessBuilder(cmd).redirectOutput(back.toFile()).start();
        assertThat(get.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(get.exitValue()).isZero();
        assertThat(Files.size(back)).isEqualTo(size);
        assertThat(sha256(back)).isEqualTo(dgst);
        Files.delete(back);
        Files.delete(big);
    }

    @Test
    void aWrongExpectedDigestFailsTheCommitAndKeepsTheIngest() throws Exception {
        byte[] data = "these bytes do not hash to zero".getBytes(StandardCharsets.UTF_8);
        String wrong = "sha256:" + "0".repeat(64);
        var r = runWithFile(file("wrong", data), "bad", "content", "ingest", "--expected-digest", wrong, "bad-ref");
        assertThat(r.exitCode()).isNotZero();
        assertThat(r.stderr()).contains("failed commit on ref \"bad-ref\"").contains("failed precondition");
        assertThat(ctr("bad", "content", "active").assertOk().stdout()).contains("bad-ref");
        assertThat(offsetOf("bad", "bad-ref")).isEqualTo(data.length);
        assertThat(ctr("bad", "content", "ls", "-q").assertOk().stdout()).isBlank();

        // the right digest on the same ref completes it
        runWithFile(file("wrong", data), "bad", "content", "ingest", "--expected-digest", sha256(data), "bad-ref").assertOk();
        assertThat(ctr("bad", "content", "ls", "-q").assertOk().stdout().trim()).isEqualTo(sha256(data));
        assertThat(ctr("bad", "content", "active").assertOk().stdout()).doesNotContain("bad-ref");
    }

    @Test
    void aSecondWriterOnALockedRefIsUnavailable() throws Exception {
        String ns = "locks";
        Process holder = start(ns, "content", "ingest", "busy");
        try {
            holder.getOutputStream().write("first ".getBytes(StandardCharsets.UTF_8));
            holder.getOutputStream().flush();
            await(() -> offsetOf(ns, "busy") >= 0, "the first writer to open the ingest");

            // ctr retries a locked (Unavailable) ref until its deadline, then reports the lock error, or the
            // deadline itself when it fires during a retry (ContentGrpcTest sees the Unavailable directly)
            var second = runWithFile(file("second", "second".getBytes(StandardCharsets.UTF_8)), ns,
                    "--timeout", "3s", "content", "ingest", "busy");
            assertThat(second.exitCode()).isNotZero();
            assertThat(second.stderr()).contains("failed to open writer").containsAnyOf("unavailable", "deadline exceeded");
        } finally {
            holder.getOutputStream().close();
        }
        Ctr.Result done = collect(holder);
        done.assertOk();
        assertThat(ctr(ns, "content", "ls", "-q").assertOk().stdout().trim()).isEqualTo(sha256("first ".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void leasesCreateListRemove() {
        String ns = "lease-ns";
        assertThat(ctr(ns, "leases", "create", "--id", "my-lease", "team=infra").assertOk().stdout().trim()).isEqualTo("my-lease");
        String generated = ctr(ns, "leases", "create", "--expires", "0").assertOk().stdout().trim();
        assertThat(generated).matches("\\d+-[A-Za-z0-9_-]{4}");

        var ls = ctr(ns, "leases", "ls").assertOk().stdout();
        assertThat(ls).contains("ID", "CREATED AT", "LABELS");
        assertThat(ls).containsPattern("my-lease\\s+\\S+\\s+containerd.io/gc.expire=\\d{4}-\\d\\d-\\d\\dT[^,]+,team=infra");
        assertThat(ls).containsPattern(generated + "\\s+\\S+\\s+-");
        assertThat(ctr(ns, "leases", "ls", "-q", "labels.team==infra").assertOk().stdout().trim()).isEqualTo("my-lease");
        assertThat(ctr("other-ns", "leases", "ls", "-q").assertOk().stdout()).isBlank();

        var dup = ctr(ns, "leases", "create", "--id", "my-lease");
        assertThat(dup.exitCode()).isNotZero();
        assertThat(dup.stderr()).contains("already exists");

        assertThat(ctr(ns, "leases", "rm", "my-lease").assertOk().stdout().trim()).isEqualTo("my-lease");
        var again = ctr(ns, "leases", "rm", "my-lease");
        assertThat(again.exitCode()).isNotZero();
        assertThat(again.stderr()).contains("not found");
        assertThat(ctr(ns, "leases", "rm", "--sync", generated).assertOk().stdout().trim()).isEqualTo(generated);
        assertThat(ctr(ns, "leases", "ls", "-q").assertOk().stdout()).isBlank();
        // an open lease pins its namespace (the rule; containerd 1.6 would drop the lease with it)
        ctr(ns, "leases", "create", "--id", "left").assertOk();
        var rm = ctr(ns, "namespaces", "rm", ns);
        assertThat(rm.exitCode()).isNotZero();
        assertThat(rm.stderr()).contains("namespace \"lease-ns\" must be empty, but it still has leases");
        ctr(ns, "leases", "rm", "left").assertOk();
        ctr(ns, "namespaces", "rm", ns).assertOk();
    }

    @Test
    void pluginsAreListed() {
        var r = Ctr.run(daemon.address(), "plugins", "ls").assertOk().stdout();
        assertThat(r).containsPattern("io\\.containerd\\.service\\.v1\\s+content-service\\s+-\\s+ok");
        assertThat(r).containsPattern("io\\.containerd\\.grpc\\.v1\\s+content\\s+-\\s+ok");
        assertThat(r).containsPattern("io\\.containerd\\.lease\\.v1\\s+manager\\s+-\\s+ok");
        assertThat(r).containsPattern("io\\.containerd\\.grpc\\.v1\\s+leases\\s+-\\s+ok");
    }
}
