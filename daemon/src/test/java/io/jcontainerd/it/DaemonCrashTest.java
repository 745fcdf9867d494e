package io.jcontainerd.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.StatusRuntimeException;
import io.jcontainerd.api.services.content.v1.Info;
import io.jcontainerd.testing.Ctr;
import io.jcontainerd.testing.DaemonProcess;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * kill -9 of the real daemon while several clients commit blobs through gRPC Write streams, in a loop:
 * after every restart on the same root the daemon boots, every blob file is named after its sha256, and
 * every commit the daemon acknowledged before the kill is there, in its namespace, with its bytes.
 */
class DaemonCrashTest {
    static final int ROUNDS = 8;
    static final int CLIENTS = 4;

    /** What a client was told was committed. */
    record Acked(String namespace, String digest, int size) {}

    @Test
    void acknowledgedCommitsSurviveKillNine() throws Exception {
        long seed = System.nanoTime();
        Random rnd = new Random(seed);
        Map<String, Acked> acked = new ConcurrentHashMap<>();
        try (DaemonProcess daemon = DaemonProcess.start()) {
            // blobs must outlive collections: half are held by a lease, half are gc roots themselves
            Ctr.run(daemon.address(), "-n", "crash-a", "leases", "create", "--id", "hold", "--expires", "0").assertOk();
            for (int round = 0; round < ROUNDS; round++) {
                int before = acked.size();
                AtomicInteger failed = new AtomicInteger();
                CountDownLatch firstAck = new CountDownLatch(1);
                List<Thread> clients = new ArrayList<>();
                for (int c = 0; c < CLIENTS; c++) {
                    long clientSeed = rnd.nextLong();
                    String tag = "r" + round + "c" + c;
                    clients.add(Thread.ofPlatform().name("crash-client-" + tag).start(() ->
                            commitUntilFailure(daemon, new Random(clientSeed), tag, acked, firstAck, failed)));
                }
                assertThat(firstAck.await(60, TimeUnit.SECONDS)).as("a commit is acknowledged (seed " + seed + ")").isTrue();
                Thread.sleep(50 + rnd.nextInt(1500));
                daemon.kill();
                for (Thread t : clients) {
                    t.join(TimeUnit.SECONDS.toMillis(90));
                    assertThat(t.isAlive()).as(t.getName() + " ended").isFalse();
                }
                assertThat(failed.get()).as("every client saw the daemon die").isEqualTo(CLIENTS);

                daemon.restart();
                assertThat(acked.size()).isGreaterThan(before);
                verify(daemon, acked, seed, round);
                System.out.printf("crash round %d: %d commits acknowledged before the kill, %d in all (seed %d)%n",
                        round, acked.size() - before, acked.size(), seed);
            }
        }
    }

    /** Commits random blobs until the daemon goes away; records each acknowledged one. */
    static void commitUntilFailure(DaemonProcess daemon, Random rnd, String tag, Map<String, Acked> acked,
                                   CountDownLatch firstAck, AtomicInteger failed) {
        for (int i = 0; ; i++) {
            // mostly small, sometimes a few MiB so that kills land inside long writes and fsyncs too
            int size = rnd.nextInt(8) == 0 ? rnd.nextInt(4 << 20) : rnd.nextInt(256 << 10);
            byte[] data = new byte[size];
            rnd.nextBytes(data);
            boolean leased = rnd.nextBoolean();
            String ns = leased ? "crash-a" : "crash-b";
            try {
                String dgst = ContentClient.commit(daemon.channel(), ns, leased ? "hold" : null, tag + "-" + i, data,
                        leased ? Map.of() : Map.of("containerd.io/gc.root", "crash-test"));
                acked.put(ns + "@" + dgst, new Acked(ns, dgst, size));
                firstAck.countDown();
            } catch (RuntimeException e) {
                // the kill: a status from the dead connection, or the fixture tearing the channel down
                // (RejectedExecutionException) while this client was still sending
                failed.incrementAndGet();
                return;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                failed.incrementAndGet();
                return;
            }
        }
    }

    static void verify(DaemonProcess daemon, Map<String, Acked> acked, long seed, int round) throws Exception {
        String why = "round " + round + ", seed " + seed;
        Path blobs = daemon.root().resolve("io.containerd.content.v1.content/blobs/sha256");
        List<Path> files;
        try (Stream<Path> s = Files.list(blobs)) {
            files = s.toList();
        }
        for (Path f : files) {
            assertThat("sha256:" + f.getFileName()).as(why + ": blob file named after its digest").isEqualTo(sha256(f));
        }
        for (Acked a : acked.values()) {
            Info info;
            try {
                info = ContentClient.info(daemon.channel(), a.namespace(), a.digest());
            } catch (StatusRuntimeException e) {
                throw new AssertionError(why + ": acknowledged blob " + a + " is missing: " + e.getStatus(), e);
            }
            assertThat(info.getSize()).as(why + ": size of " + a).isEqualTo(a.size());
            byte[] data = ContentClient.read(daemon.channel(), a.namespace(), a.digest());
            assertThat(ContentClient.sha256(data)).as(why + ": bytes of " + a).isEqualTo(a.digest());
        }
        // the database answers lists too (ctr walks every record of the namespace)
        String ls = Ctr.run(daemon.address(), "-n", "crash-b", "content", "ls", "-q").assertOk().stdout();
        acked.values().stream().filter(a -> a.namespace().equals("crash-b"))
                .forEach(a -> assertThat(ls).as(why).contains(a.digest()));
    }

    static String sha256(Path f) throws IOException {
        try (InputStream in = Files.newInputStream(f)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
            return "sha256:" + HexFormat.of().formatHex(md.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
