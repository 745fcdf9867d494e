import com.google.protobuf.ByteString;
import com.google.protobuf.Empty;
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
import io.jcontainerd.api.services.content.v1.WriteAction;
import io.jcontainerd.api.services.content.v1.WriteContentRequest;
import io.jcontainerd.api.services.content.v1.WriteContentResponse;
import io.jcontainerd.api.services.diff.v1.ApplyRequest;
import io.jcontainerd.api.services.diff.v1.DiffGrpc;
import io.jcontainerd.api.services.leases.v1.CreateRequest;
import io.jcontainerd.api.services.leases.v1.LeasesGrpc;
import io.jcontainerd.api.services.snapshots.v1.CommitSnapshotRequest;
import io.jcontainerd.api.services.snapshots.v1.PrepareSnapshotRequest;
import io.jcontainerd.api.services.snapshots.v1.RemoveSnapshotRequest;
import io.jcontainerd.api.services.snapshots.v1.SnapshotsGrpc;
import io.jcontainerd.api.services.version.v1.VersionGrpc;
import io.jcontainerd.api.types.Descriptor;
import io.jcontainerd.api.types.Mount;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * Snapshot and layer-apply benchmark of jcontainerd beside containerd (see bench/README.md), run by
 * bench/snap.sh. Both daemons are started by {@link Bench}'s targets (temp root, CRI off for containerd) and
 * driven by this one Java client over the generated stubs, all calls under a lease in namespace "bench":
 *
 * <ul>
 * <li>snapshots: Prepare (parent: a committed layer) → Commit → Remove on the overlayfs snapshotter,
 *     sequentially; latency of each and ops/s over the whole loop;</li>
 * <li>apply: one generated gzip layer of many small files, uploaded once, then Diff.Apply onto a fresh
 *     overlayfs snapshot per round; MB/s of the uncompressed tar and files/s.</li>
 * </ul>
 */
public final class SnapBench {
    static final String NS = "bench";
    static final String SNAPSHOTTER = "overlayfs";
    static final String GZIP_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip";

    /** The figures of one daemon instance. */
    record Sample(double prepareMs, double commitMs, double removeMs, double cycleP99Ms, double opsPerSec, double cycleCpuMs,
                  double applyMBps, double filesPerSec, double applyCpuMs) {}

    /** A generated layer: the gzip blob, its digest, and what it unpacks to. */
    record Layer(byte[] blob, String digest, long tarBytes, int files) {}

    // started and not yet cleaned up, for the shutdown hook (Ctrl-C, SIGTERM); nothing new starts after it ran
    private static final java.util.Set<Process> LIVE = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private static final java.util.Set<Path> DIRS = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private static boolean closing; // guarded by SnapBench.class

    private final EventLoopGroup loop = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    private final int snapOps;
    private final int applyRounds;
    private final Layer layer;

    SnapBench(int snapOps, int applyRounds, Layer layer) {
        this.snapOps = snapOps;
        this.applyRounds = applyRounds;
        this.layer = layer;
    }

    public static void main(String[] args) throws Exception {
        int n = 3, ops = 300, rounds = 3, files = 30_000;
        List<Path> jcs = new ArrayList<>();
        Path ctd = Path.of("/usr/bin/containerd");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "-n" -> n = Integer.parseInt(args[++i]);
                case "--ops" -> ops = Integer.parseInt(args[++i]);
                case "--apply-rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--files" -> files = Integer.parseInt(args[++i]);
                case "--jcontainerd" -> jcs.add(Path.of(args[++i]));
                case "--containerd" -> ctd = Path.of(args[++i]);
                case "--no-containerd" -> ctd = null;
                default -> {
                    System.err.println("usage: snap.sh [-n DAEMON_RUNS] [--ops N] [--apply-rounds N] [--files N] "
                            + "[--jcontainerd LAUNCHER]... [--containerd BINARY | --no-containerd]");
                    System.exit(2);
                }
            }
        }
        if (jcs.isEmpty()) throw new IllegalArgumentException("--jcontainerd is required");
        java.util.logging.LogManager.getLogManager().reset();
        Runtime.getRuntime().addShutdownHook(new Thread(SnapBench::cleanUpAll));

        List<Bench.Target> targets = new ArrayList<>();
        for (Path jc : jcs) targets.add(new Bench.Jcontainerd(targets.isEmpty() ? "jcontainerd" : jc.getFileName().toString(), jc));
        Bench.Target containerd = null;
        if (ctd != null && Files.isExecutable(ctd)) targets.add(containerd = new Bench.Containerd(ctd));
        else System.out.println("containerd: not installed (" + ctd + "), jcontainerd only");

        Layer layer = generate(files);
        System.out.printf("layer: %d files, %.1f MB tar, %.1f MB gzip; %d prepare/commit/remove cycles and %d applies per daemon run, "
                + "%d alternating daemon runs%n", layer.files(), layer.tarBytes() / 1e6, layer.blob().length / 1e6, ops, rounds, n);
        SnapBench bench = new SnapBench(ops, rounds, layer);
        Map<Bench.Target, List<Sample>> samples = new LinkedHashMap<>();
        for (Bench.Target t : targets) samples.put(t, new ArrayList<>());
        for (int i = 0; i < n; i++) {
            for (Bench.Target t : targets) {
                Sample s = bench.runOnce(t);
                samples.get(t).add(s);
                System.out.printf("  run %2d %-14s prepare %6.2f ms  commit %6.2f ms  remove %6.2f ms  cycle p99 %6.2f ms  %7.1f ops/s"
                                + " (cpu %5.2f ms/cycle)  apply %6.1f MB/s %8.0f files/s (cpu %6.0f ms)  load %s%n", i + 1, t.name(),
                        s.prepareMs(), s.commitMs(), s.removeMs(), s.cycleP99Ms(), s.opsPerSec(), s.cycleCpuMs(), s.applyMBps(),
                        s.filesPerSec(), s.applyCpuMs(), loadAverage());
            }
        }
        bench.loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        for (Bench.Target t : targets) {
            if (t != containerd) report(t.name(), samples.get(t), containerd == null ? null : samples.get(containerd));
        }
    }

    /** Many small files in a few hundred directories (sizes 0–4 KiB, a few larger), gzip, deterministic. */
    static Layer generate(int files) throws IOException {
        Random r = new Random(42);
        ByteArrayOutputStream tar = new ByteArrayOutputStream();
        try (TarArchiveOutputStream t = new TarArchiveOutputStream(tar)) {
            t.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            int dirs = Math.max(1, files / 100);
            for (int d = 0; d < dirs; d++) {
                TarArchiveEntry e = new TarArchiveEntry("usr/share/d" + d + "/");
                e.setMode(040755);
                t.putArchiveEntry(e);
                t.closeArchiveEntry();
            }
            byte[] buf = new byte[64 * 1024];
            for (int f = 0; f < files; f++) {
                int size = f % 100 == 0 ? 16 * 1024 + r.nextInt(48 * 1024) : r.nextInt(4096);
                // compressible but not trivial: text-like bytes
                for (int i = 0; i < size; i++) buf[i] = (byte) ('a' + r.nextInt(16));
                // grouped by directory, in the order a tar of a real tree lists them
                TarArchiveEntry e = new TarArchiveEntry("usr/share/d" + (f * dirs / files) + "/file-" + f + ".txt");
                e.setMode(0100644);
                e.setSize(size);
                e.setModTime(1_700_000_000_000L);
                t.putArchiveEntry(e);
                t.write(buf, 0, size);
                t.closeArchiveEntry();
            }
        }
        byte[] raw = tar.toByteArray();
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(gz)) {
            z.write(raw);
        }
        byte[] blob = gz.toByteArray();
        return new Layer(blob, sha256(blob), raw.length, files);
    }

    static String sha256(byte[] b) {
        try {
            return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Starts {@code t} on a fresh directory, runs both workloads, stops it and removes the directory. */
    Sample runOnce(Bench.Target t) throws Exception {
        Path dir;
        Process p = null;
        synchronized (SnapBench.class) {
            if (closing) throw new IOException("interrupted");
            dir = Files.createTempDirectory(Path.of("/tmp"), "jcs"); // short: unix socket paths <= 108 bytes
            DIRS.add(dir);
            try {
                p = t.spawn(dir);
                LIVE.add(p);
            } catch (IOException e) {
                Bench.delete(dir);
                DIRS.remove(dir);
                throw e;
            }
        }
        ManagedChannel ch = null;
        try {
            ch = await(p, t.socket(dir));
            String lease = ns(LeasesGrpc.newBlockingStub(ch), null).create(CreateRequest.getDefaultInstance()).getLease().getId();
            var snaps = ns(SnapshotsGrpc.newBlockingStub(ch), lease);
            long pid = p.pid();
            double[] snap = snapshots(snaps, pid);
            double[] apply = apply(ch, snaps, lease, pid);
            return new Sample(snap[0], snap[1], snap[2], snap[3], snap[4], snap[5], apply[0], apply[1], apply[2]);
        } catch (Exception | Error e) {
            System.err.println(t.name() + " run failed: " + e + "\n--- daemon log (tail) ---\n" + Bench.logTail(dir));
            throw e;
        } finally {
            if (ch != null) ch.shutdownNow().awaitTermination(1, TimeUnit.SECONDS);
            Bench.stop(p);
            LIVE.remove(p);
            unmountUnder(dir);
            Bench.delete(dir);
            DIRS.remove(dir);
        }
    }

    static synchronized void cleanUpAll() {
        closing = true;
        LIVE.forEach(Bench::stop);
        DIRS.forEach(d -> {
            unmountUnder(d);
            Bench.delete(d);
        });
    }

    /**
     * Median prepare, commit and remove latency (ms), the 99th percentile of a whole cycle's latency (ms: the
     * stalls a median hides, which ops/s pays for), ops/s over all of them, and the daemon's CPU time per
     * prepare+commit+remove cycle (ms, all its threads: barely moved by other load on the machine).
     */
    double[] snapshots(SnapshotsGrpc.SnapshotsBlockingStub s, long pid) throws IOException {
        s.prepare(PrepareSnapshotRequest.newBuilder().setSnapshotter(SNAPSHOTTER).setKey("base-a").build());
        s.commit(CommitSnapshotRequest.newBuilder().setSnapshotter(SNAPSHOTTER).setKey("base-a").setName("base").build());
        int warm = Math.max(20, snapOps / 10);
        double[] p = new double[snapOps], c = new double[snapOps], r = new double[snapOps], cycle = new double[snapOps];
        long start = 0;
        double cpu0 = 0;
        for (int i = -warm; i < snapOps; i++) {
            if (i == 0) {
                start = System.nanoTime();
                cpu0 = Bench.cpuMs(pid);
            }
            String key = "a" + i, name = "c" + i;
            long t0 = System.nanoTime();
            s.prepare(PrepareSnapshotRequest.newBuilder().setSnapshotter(SNAPSHOTTER).setKey(key).setParent("base").build());
            long t1 = System.nanoTime();
            s.commit(CommitSnapshotRequest.newBuilder().setSnapshotter(SNAPSHOTTER).setKey(key).setName(name).build());
            long t2 = System.nanoTime();
            s.remove(RemoveSnapshotRequest.newBuilder().setSnapshotter(SNAPSHOTTER).setKey(name).build());
            long t3 = System.nanoTime();
            if (i >= 0) {
                p[i] = (t1 - t0) / 1e6;
                c[i] = (t2 - t1) / 1e6;
                r[i] = (t3 - t2) / 1e6;
                cycle[i] = (t3 - t0) / 1e6;
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        double cpu = (Bench.cpuMs(pid) - cpu0) / snapOps;
        double[] sorted = cycle.clone();
        Arrays.sort(sorted);
        double p99 = sorted[Math.min(sorted.length - 1, (int) Math.ceil(sorted.length * 0.99) - 1)];
        return new double[] {median(p), median(c), median(r), p99, 3.0 * snapOps / seconds, cpu};
    }

    /** Uploads the layer, then applies it onto a fresh snapshot per round; median MB/s, files/s and daemon CPU ms per apply. */
    double[] apply(ManagedChannel ch, SnapshotsGrpc.SnapshotsBlockingStub s, String lease, long pid) throws Exception {
        upload(ch, lease, layer.blob(), layer.digest());
        var diff = ns(DiffGrpc.newBlockingStub(ch), lease);
        Descriptor desc = Descriptor.newBuilder().setMediaType(GZIP_LAYER).setDigest(layer.digest()).setSize(layer.blob().length).build();
        double[] seconds = new double[applyRounds];
        double[] cpu = new double[applyRounds];
        for (int i = -1; i < applyRounds; i++) { // one discarded warm-up round
            String key = "apply-" + i;
            List<Mount> mounts = s.prepare(PrepareSnapshotRequest.newBuilder().setSnapshotter(SNAPSHOTTER).setKey(key).build()).getMountsList();
            double c0 = Bench.cpuMs(pid);
            long t0 = System.nanoTime();
            diff.withDeadlineAfter(10, TimeUnit.MINUTES).apply(ApplyRequest.newBuilder().setDiff(desc).addAllMounts(mounts).build());
            long t1 = System.nanoTime();
            if (i >= 0) {
                seconds[i] = (t1 - t0) / 1e9;
                cpu[i] = Bench.cpuMs(pid) - c0;
            }
            s.remove(RemoveSnapshotRequest.newBuilder().setSnapshotter(SNAPSHOTTER).setKey(key).build());
        }
        double med = median(seconds);
        return new double[] {layer.tarBytes() / 1e6 / med, layer.files() / med, median(cpu)};
    }

    static void upload(ManagedChannel ch, String lease, byte[] data, String digest) throws Exception {
        CompletableFuture<Void> done = new CompletableFuture<>();
        StreamObserver<WriteContentRequest> req = ns(ContentGrpc.newStub(ch), lease).write(new StreamObserver<WriteContentResponse>() {
            public void onNext(WriteContentResponse r) {}

            public void onError(Throwable t) {
                done.completeExceptionally(t);
            }

            public void onCompleted() {
                done.complete(null);
            }
        });
        int chunk = 1 << 20;
        for (int off = 0; off < data.length; off += chunk) {
            int len = Math.min(chunk, data.length - off);
            boolean last = off + len == data.length;
            WriteContentRequest.Builder b = WriteContentRequest.newBuilder().setRef("bench-layer").setOffset(off).setTotal(data.length)
                    .setData(ByteString.copyFrom(data, off, len)).setAction(last ? WriteAction.COMMIT : WriteAction.WRITE);
            if (last) b.setExpected(digest);
            req.onNext(b.build());
        }
        req.onCompleted();
        done.get(5, TimeUnit.MINUTES);
    }

    static <S extends AbstractStub<S>> S ns(S stub, String lease) {
        Metadata md = new Metadata();
        md.put(Metadata.Key.of("containerd-namespace", Metadata.ASCII_STRING_MARSHALLER), NS);
        if (lease != null) md.put(Metadata.Key.of("containerd-lease", Metadata.ASCII_STRING_MARSHALLER), lease);
        return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md));
    }

    /** A channel once the daemon answers Version. */
    ManagedChannel await(Process p, Path socket) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) throw new IOException("daemon exited with " + p.exitValue());
            if (Files.exists(socket)) {
                ManagedChannel ch = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                        .eventLoopGroup(loop).channelType(EpollDomainSocketChannel.class).usePlaintext()
                        .maxInboundMessageSize(16 << 20).build();
                try {
                    VersionGrpc.newBlockingStub(ch).withDeadlineAfter(5, TimeUnit.SECONDS).version(Empty.getDefaultInstance());
                    return ch;
                } catch (StatusRuntimeException notYet) {
                    ch.shutdownNow();
                }
            }
            Thread.sleep(10);
        }
        throw new IOException("daemon did not answer within 60s");
    }

    /** Whatever a daemon left mounted in its directory (a killed apply's temp mount) goes before deletion. */
    static void unmountUnder(Path dir) {
        try {
            List<String> lines = Files.readAllLines(Path.of("/proc/self/mountinfo"));
            for (String line : lines.reversed()) {
                String[] f = line.split(" ");
                if (f.length > 4 && f[4].startsWith(dir + "/")) new ProcessBuilder("umount", "-l", f[4]).inheritIO().start().waitFor();
            }
        } catch (IOException | InterruptedException ignored) {
            // nothing mounted
        }
    }

    /** The 1-minute load average, for judging how noisy a run was. */
    static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (IOException e) {
            return "?";
        }
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    // ---- report ----

    /** A row: its metric, and whether higher is better (ratios are then containerd/jcontainerd-independent "speed"). */
    record Row(String workload, java.util.function.ToDoubleFunction<Sample> metric, boolean higherIsBetter, boolean target) {}

    static void report(String name, List<Sample> jc, List<Sample> ctd) {
        List<Row> rows = List.of(
                new Row("snapshot prepare, median (ms)", Sample::prepareMs, false, false),
                new Row("snapshot commit, median (ms)", Sample::commitMs, false, false),
                new Row("snapshot remove, median (ms)", Sample::removeMs, false, false),
                new Row("cycle latency, p99 (ms)", Sample::cycleP99Ms, false, false),
                new Row("prepare+commit+remove (ops/s)", Sample::opsPerSec, true, true),
                new Row("daemon CPU per cycle (ms)", Sample::cycleCpuMs, false, false),
                new Row("layer apply (MB/s of tar)", Sample::applyMBps, true, true),
                new Row("layer apply (files/s)", Sample::filesPerSec, true, true),
                new Row("daemon CPU per apply (ms)", Sample::applyCpuMs, false, false));
        System.out.println();
        System.out.println("speed = how many times as fast jcontainerd is (containerd time / jcontainerd time); medians over daemon runs");
        System.out.printf("%-32s %14s %14s %8s  %s%n", "workload", name, "containerd", "speed", "target");
        boolean allMet = true;
        for (Row r : rows) {
            double j = median(jc.stream().mapToDouble(r.metric()).toArray());
            String c = "-", speed = "-", verdict = "";
            if (ctd != null) {
                double cv = median(ctd.stream().mapToDouble(r.metric()).toArray());
                double q = r.higherIsBetter() ? j / cv : cv / j;
                c = "%14.2f".formatted(cv);
                speed = "%7.2fx".formatted(q);
                if (r.target()) {
                    allMet &= q >= 1.0;
                    verdict = q >= 1.0 ? ">= 1x met" : ">= 1x NOT met";
                } else {
                    verdict = "(info)";
                }
            }
            System.out.printf("%-32s %14.2f %14s %8s  %s%n", r.workload(), j, c, speed, verdict);
        }
        if (ctd != null) System.out.println(allMet ? "all targets met" : "some targets not met (report only)");
    }
}
