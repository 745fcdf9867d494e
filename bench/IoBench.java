import com.google.protobuf.ByteString;
import com.google.protobuf.Empty;
import com.google.protobuf.UnsafeByteOperations;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.stub.AbstractStub;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.jcontainerd.api.services.content.v1.ContentGrpc;
import io.jcontainerd.api.services.content.v1.ReadContentRequest;
import io.jcontainerd.api.services.content.v1.ReadContentResponse;
import io.jcontainerd.api.services.content.v1.WriteAction;
import io.jcontainerd.api.services.content.v1.WriteContentRequest;
import io.jcontainerd.api.services.content.v1.WriteContentResponse;
import io.jcontainerd.api.services.leases.v1.CreateRequest;
import io.jcontainerd.api.services.leases.v1.LeasesGrpc;
import io.jcontainerd.api.services.version.v1.VersionGrpc;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * Content and metadata throughput of jcontainerd beside containerd (see bench/README.md), through the
 * daemons' gRPC API with one Java client, so only the daemon differs:
 * <ul>
 *   <li>write: one blob through a Content.Write stream in 1 MiB WRITE messages, each answered before the
 *       next is sent (as containerd's own remote writer does), then COMMIT with the expected digest;</li>
 *   <li>read: the blob back through Content.Read, one 1 MiB ReadAt-style request after another (as
 *       containerd's remote reader does with a 1 MiB buffer), and as one stream of the whole blob;</li>
 *   <li>metadata transactions: Leases.Create with a label, from 1 and 16 concurrent writers; each create
 *       is a durable write transaction in both daemons.</li>
 * </ul>
 */
public final class IoBench {
    static final int MiB = 1 << 20;
    static final String NS = "bench";

    interface Target {
        String name();

        Process spawn(Path dir) throws IOException;

        default Path socket(Path dir) {
            return dir.resolve("d.sock");
        }
    }

    record Jcontainerd(Path launcher) implements Target {
        public String name() {
            return "jcontainerd";
        }

        public Process spawn(Path dir) throws IOException {
            return new ProcessBuilder(launcher.toString(), "--config", dir.resolve("none.toml").toString(),
                    "--root", dir.resolve("root").toString(), "--state", dir.resolve("state").toString(),
                    "--address", socket(dir).toString())
                    .redirectErrorStream(true).redirectOutput(dir.resolve("daemon.log").toFile()).start();
        }
    }

    record Containerd(Path binary) implements Target {
        public String name() {
            return "containerd";
        }

        public Process spawn(Path dir) throws IOException {
            // no CRI (jcontainerd has none); opt would otherwise install into /opt/containerd
            Path config = dir.resolve("config.toml");
            Files.writeString(config, """
                    version = 2
                    disabled_plugins = ["io.containerd.grpc.v1.cri"]
                    [plugins."io.containerd.internal.v1.opt"]
                      path = "%s"
                    """.formatted(dir.resolve("opt")));
            return new ProcessBuilder(binary.toString(), "--config", config.toString(),
                    "--root", dir.resolve("root").toString(), "--state", dir.resolve("state").toString(),
                    "--address", socket(dir).toString())
                    .redirectErrorStream(true).redirectOutput(dir.resolve("daemon.log").toFile()).start();
        }
    }

    /** The blob every run writes: a random pattern repeated up to the size, digested once up front. */
    record Blob(List<ByteString> chunks, long size, String digest) {}

    // what is running or on disk, for the shutdown hook (Ctrl-C, SIGTERM)
    static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();
    static final Set<Path> DIRS = ConcurrentHashMap.newKeySet();
    static volatile boolean closing;

    final EventLoopGroup loop = new MultiThreadIoEventLoopGroup(2, EpollIoHandler.newFactory());
    final Blob blob;
    final int txSeconds;

    IoBench(Blob blob, int txSeconds) {
        this.blob = blob;
        this.txSeconds = txSeconds;
    }

    public static void main(String[] args) throws Exception {
        int runs = 3, sizeMiB = 1024, txSeconds = 5;
        Path jc = null, ctd = Path.of("/usr/bin/containerd");
        Set<String> only = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "-n" -> runs = Integer.parseInt(args[++i]);
                case "--size-mib" -> sizeMiB = Integer.parseInt(args[++i]);
                case "--tx-seconds" -> txSeconds = Integer.parseInt(args[++i]);
                case "--jcontainerd" -> jc = Path.of(args[++i]);
                case "--containerd" -> ctd = Path.of(args[++i]);
                case "--no-containerd" -> ctd = null;
                case "--only" -> only = Set.of(args[++i].split(","));
                default -> {
                    System.err.println("usage: io.sh [-n RUNS] [--size-mib MIB] [--tx-seconds S] [--only write,read,tx]"
                            + " [--containerd BINARY | --no-containerd]");
                    System.exit(2);
                }
            }
        }
        if (jc == null) throw new IllegalArgumentException("--jcontainerd is required");
        java.util.logging.LogManager.getLogManager().reset();
        Runtime.getRuntime().addShutdownHook(new Thread(IoBench::cleanUpAll));

        List<Target> targets = new ArrayList<>(List.of(new Jcontainerd(jc)));
        if (ctd != null && Files.isExecutable(ctd)) targets.add(new Containerd(ctd));
        else System.out.println("containerd: not available, jcontainerd only");

        System.out.printf("blob %d MiB in 1 MiB messages; metadata: Leases.Create for %d s per writer count; "
                + "a warm-up round, then %d runs%n", sizeMiB, txSeconds, runs);
        IoBench bench = new IoBench(blob(sizeMiB), txSeconds);
        // one discarded round against each daemon on a small blob: the client's own JIT warm-up would
        // otherwise count against whichever daemon is measured first
        IoBench warm = new IoBench(blob(Math.min(sizeMiB, 64)), 1);
        for (Target t : targets) warm.runOnce(t, only);
        warm.loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        Map<String, Map<String, List<Double>>> results = new LinkedHashMap<>(); // workload → target → values
        for (int r = 1; r <= runs; r++) {
            // alternate which daemon goes first so drifting machine load hits both alike
            List<Target> order = new ArrayList<>(targets);
            if (r % 2 == 0) order = order.reversed();
            for (Target t : order) {
                Map<String, Double> m = bench.runOnce(t, only);
                StringBuilder line = new StringBuilder("  run %d %-12s".formatted(r, t.name()));
                m.forEach((w, v) -> {
                    results.computeIfAbsent(w, _ -> new LinkedHashMap<>()).computeIfAbsent(t.name(), _ -> new ArrayList<>()).add(v);
                    line.append("  %s %.0f".formatted(w, v));
                });
                System.out.println(line);
            }
        }
        bench.loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        report(results);
    }

    static Blob blob(int sizeMiB) throws Exception {
        Random rnd = new Random(1);
        int patternMiB = Math.min(sizeMiB, 64);
        List<ByteString> pattern = new ArrayList<>();
        for (int i = 0; i < patternMiB; i++) {
            byte[] b = new byte[MiB];
            rnd.nextBytes(b);
            pattern.add(UnsafeByteOperations.unsafeWrap(b));
        }
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        List<ByteString> chunks = new ArrayList<>(sizeMiB);
        for (int i = 0; i < sizeMiB; i++) {
            ByteString c = pattern.get(i % patternMiB);
            chunks.add(c);
            md.update(c.asReadOnlyByteBuffer());
        }
        return new Blob(chunks, (long) sizeMiB * MiB, "sha256:" + HexFormat.of().formatHex(md.digest()));
    }

    /** Boots {@code t} on a fresh directory, runs the workloads, stops it and removes the directory. */
    Map<String, Double> runOnce(Target t, Set<String> only) throws Exception {
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "jcio"); // short: socket paths <= 108 bytes
        DIRS.add(dir);
        Process p = null;
        ManagedChannel ch = null;
        Map<String, Double> out = new LinkedHashMap<>();
        try {
            if (closing) throw new IOException("interrupted");
            p = t.spawn(dir);
            LIVE.add(p);
            ch = awaitServing(p, t.socket(dir));
            if (only == null || only.contains("write") || only.contains("read")) {
                out.put("write MiB/s", write(ch, "bench-blob"));
                if (only == null || only.contains("read")) {
                    out.put("read 1MiB MiB/s", readAt(ch, MiB));
                    // the same again: the first pass includes the JVM compiling the read path
                    out.put("read 1MiB again", readAt(ch, MiB));
                    out.put("read stream MiB/s", readStream(ch));
                }
            }
            if (only == null || only.contains("tx")) {
                out.put("tx/s 1 writer", transactions(ch, 1));
                out.put("tx/s 16 writers", transactions(ch, 16));
            }
            return out;
        } catch (Exception | Error e) {
            System.err.println(t.name() + " run failed: " + e + "\n--- daemon log (tail) ---\n" + logTail(dir));
            throw e;
        } finally {
            if (ch != null) ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            if (p != null) {
                stop(p);
                LIVE.remove(p);
            }
            delete(dir);
            DIRS.remove(dir);
        }
    }

    ManagedChannel awaitServing(Process p, Path socket) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) throw new IOException("daemon exited with " + p.exitValue());
            if (Files.exists(socket)) {
                ManagedChannel ch = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                        .eventLoopGroup(loop).channelType(EpollDomainSocketChannel.class).usePlaintext()
                        .maxInboundMessageSize(16 * MiB).build();
                try {
                    VersionGrpc.newBlockingStub(ch).withDeadlineAfter(5, TimeUnit.SECONDS).version(Empty.getDefaultInstance());
                    return ch;
                } catch (StatusRuntimeException notYet) {
                    ch.shutdownNow();
                }
            }
            Thread.sleep(20);
        }
        throw new IOException("no answer to Version within 60s");
    }

    static <S extends AbstractStub<S>> S ns(S stub) {
        Metadata md = new Metadata();
        md.put(Metadata.Key.of("containerd-namespace", Metadata.ASCII_STRING_MARSHALLER), NS);
        return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md));
    }

    /** The whole blob through one Write stream, one answered message per MiB; MiB/s up to the COMMIT answer. */
    double write(ManagedChannel ch, String ref) throws Exception {
        LinkedBlockingQueue<Object> answers = new LinkedBlockingQueue<>();
        StreamObserver<WriteContentRequest> req = ns(ContentGrpc.newStub(ch)).withDeadlineAfter(30, TimeUnit.MINUTES)
                .write(new StreamObserver<>() {
                    public void onNext(WriteContentResponse r) {
                        answers.add(r);
                    }

                    public void onError(Throwable e) {
                        answers.add(e);
                    }

                    public void onCompleted() {
                        answers.add("completed");
                    }
                });
        long t0 = System.nanoTime();
        long off = 0;
        for (ByteString chunk : blob.chunks()) {
            WriteContentRequest.Builder b = WriteContentRequest.newBuilder().setAction(WriteAction.WRITE)
                    .setOffset(off).setData(chunk);
            if (off == 0) b.setRef(ref).setTotal(blob.size()).setExpected(blob.digest());
            req.onNext(b.build());
            answer(answers);
            off += chunk.size();
        }
        req.onNext(WriteContentRequest.newBuilder().setAction(WriteAction.COMMIT).setOffset(off)
                .setTotal(blob.size()).setExpected(blob.digest()).build());
        WriteContentResponse done = answer(answers);
        double secs = (System.nanoTime() - t0) / 1e9;
        req.onCompleted();
        if (!done.getDigest().equals(blob.digest())) throw new IOException("committed " + done.getDigest());
        return blob.size() / (double) MiB / secs;
    }

    static WriteContentResponse answer(LinkedBlockingQueue<Object> answers) throws Exception {
        Object o = answers.poll(5, TimeUnit.MINUTES);
        if (o instanceof WriteContentResponse r) return r;
        if (o instanceof Throwable e) throw new IOException("write failed: " + e, e);
        throw new IOException("write stream: unexpected " + o);
    }

    /** Reads the blob with one Read request per {@code size} bytes, one after another. */
    double readAt(ManagedChannel ch, int size) throws Exception {
        var stub = ns(ContentGrpc.newBlockingStub(ch));
        long t0 = System.nanoTime(), got = 0;
        for (long off = 0; off < blob.size(); off += size) {
            Iterator<ReadContentResponse> it = stub.withDeadlineAfter(1, TimeUnit.MINUTES)
                    .read(ReadContentRequest.newBuilder().setDigest(blob.digest()).setOffset(off).setSize(size).build());
            while (it.hasNext()) got += it.next().getData().size();
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        if (got != blob.size()) throw new IOException("read " + got + " of " + blob.size() + " bytes");
        return got / (double) MiB / secs;
    }

    /** Reads the blob with a single Read request (the server picks the chunk size). */
    double readStream(ManagedChannel ch) throws Exception {
        long t0 = System.nanoTime(), got = 0;
        Iterator<ReadContentResponse> it = ns(ContentGrpc.newBlockingStub(ch)).withDeadlineAfter(30, TimeUnit.MINUTES)
                .read(ReadContentRequest.newBuilder().setDigest(blob.digest()).build());
        while (it.hasNext()) got += it.next().getData().size();
        double secs = (System.nanoTime() - t0) / 1e9;
        if (got != blob.size()) throw new IOException("read " + got + " of " + blob.size() + " bytes");
        return got / (double) MiB / secs;
    }

    /** Leases.Create calls per second from {@code writers} threads, each waiting for its answer. */
    double transactions(ManagedChannel ch, int writers) throws Exception {
        var stub = ns(LeasesGrpc.newBlockingStub(ch));
        // a short warm-up so the first connection and code paths are not measured
        for (int i = 0; i < 20; i++) {
            stub.create(CreateRequest.newBuilder().setId("warm-" + writers + "-" + i).putLabels("bench", "warm").build());
        }
        AtomicLong done = new AtomicLong();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(txSeconds);
        List<Thread> threads = new ArrayList<>();
        Throwable[] failure = new Throwable[1];
        long t0 = System.nanoTime();
        for (int w = 0; w < writers; w++) {
            String prefix = "l" + writers + "-" + w + "-";
            threads.add(Thread.ofPlatform().start(() -> {
                try {
                    for (int i = 0; System.nanoTime() < end; i++) {
                        stub.withDeadlineAfter(1, TimeUnit.MINUTES)
                                .create(CreateRequest.newBuilder().setId(prefix + i).putLabels("bench", "tx").build());
                        done.incrementAndGet();
                    }
                } catch (Throwable e) {
                    failure[0] = e;
                }
            }));
        }
        for (Thread t : threads) t.join();
        double secs = (System.nanoTime() - t0) / 1e9;
        if (failure[0] != null) throw new IOException("lease create failed: " + failure[0], failure[0]);
        return done.get() / secs;
    }

    static void report(Map<String, Map<String, List<Double>>> results) {
        System.out.println();
        System.out.printf("%-20s %22s %22s %8s  %s%n", "workload", "jcontainerd med (min)", "containerd med (min)", "ratio", "target");
        for (var e : results.entrySet()) {
            List<Double> j = e.getValue().get("jcontainerd"), c = e.getValue().get("containerd");
            String jc = "%12.0f (%7.0f)".formatted(median(j), min(j));
            String cc = c == null ? "-" : "%12.0f (%7.0f)".formatted(median(c), min(c));
            String ratio = c == null ? "-" : "%7.2fx".formatted(median(j) / median(c));
            String verdict = c == null ? "" : median(j) / median(c) >= 1.0 ? ">= 1.0x met" : ">= 1.0x NOT met";
            System.out.printf("%-20s %22s %22s %8s  %s%n", e.getKey(), jc, cc, ratio, verdict);
        }
        System.out.println("(ratio = jcontainerd / containerd; higher is better for every row)");
    }

    static double median(List<Double> v) {
        double[] a = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
    }

    static double min(List<Double> v) {
        return v.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
    }

    static void stop(Process p) {
        if (!p.isAlive()) return;
        p.destroy();
        try {
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    static void delete(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) { // does not follow symlinks
            paths.sorted(Comparator.reverseOrder()).forEach(f -> {
                try {
                    Files.deleteIfExists(f);
                } catch (IOException e) {
                    System.err.println("could not remove " + f + ": " + e.getMessage());
                }
            });
        } catch (IOException ignored) {
            // already gone
        }
    }

    static void cleanUpAll() {
        closing = true;
        LIVE.forEach(IoBench::stop);
        DIRS.forEach(IoBench::delete);
    }

    static String logTail(Path dir) {
        try {
            List<String> lines = Files.readAllLines(dir.resolve("daemon.log"));
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "(no log)";
        }
    }
}
