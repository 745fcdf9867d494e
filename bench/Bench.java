import com.google.protobuf.Empty;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.jcontainerd.api.services.introspection.v1.IntrospectionGrpc;
import io.jcontainerd.api.services.introspection.v1.PluginsRequest;
import io.jcontainerd.api.services.version.v1.VersionGrpc;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;
import java.util.stream.Stream;

/**
 * Side-by-side benchmark of jcontainerd and containerd (see bench/README.md). Run by bench/run.sh with the
 * daemon's lib directory on the class path, so the gRPC client is the same code jcontainerd ships.
 *
 * <p>All timing happens in this process: the clock starts just before the daemon is spawned and stops when
 * a Version call is answered. The client code is warmed up by one discarded round per daemon, so its own
 * class loading never counts.
 */
public final class Bench {
    /** One measured daemon start. */
    record Sample(double bootMs, double socketMs, int attempts, double bootCpuMs, double rssMiB, double anonMiB) {}

    /** A daemon under test: how to start it in a scratch directory and where it listens. */
    interface Target {
        String name();

        Process spawn(Path dir) throws IOException;

        Path socket(Path dir);
    }

    /** A jcontainerd launcher; extra ones (flag experiments) are named after their file. */
    record Jcontainerd(String name, Path launcher) implements Target {

        public Process spawn(Path dir) throws IOException {
            // a config path that does not exist: the embedded defaults, as on a fresh host
            return new ProcessBuilder(launcher.toString(), "--config", dir.resolve("none.toml").toString(),
                    "--root", dir.resolve("root").toString(), "--state", dir.resolve("state").toString(),
                    "--address", socket(dir).toString())
                    .redirectErrorStream(true).redirectOutput(dir.resolve("daemon.log").toFile()).start();
        }

        public Path socket(Path dir) { return dir.resolve("j.sock"); }
    }

    record Containerd(Path binary) implements Target {
        public String name() { return "containerd"; }

        public Process spawn(Path dir) throws IOException {
            // CRI is off (jcontainerd has none; it would also want CNI); opt's default path is /opt/containerd
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

        public Path socket(Path dir) { return dir.resolve("c.sock"); }
    }

    // everything started and not yet cleaned up, so the shutdown hook (Ctrl-C, SIGTERM) can stop it
    private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();
    private static final Set<Path> DIRS = ConcurrentHashMap.newKeySet();
    private static boolean closing; // guarded by Bench.class: once set, nothing new is created

    private static final long BOOT_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(60);
    private static final int RPC_RETRY_MS = 5;

    private final EventLoopGroup loop = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    private final long idleMs;

    Bench(long idleMs) {
        this.idleMs = idleMs;
    }

    public static void main(String[] args) throws Exception {
        int n = 10;
        long idleMs = 2000;
        List<Path> jcs = new ArrayList<>();
        Path ctd = Path.of("/usr/bin/containerd");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "-n" -> n = Integer.parseInt(args[++i]);
                case "--idle-ms" -> idleMs = Long.parseLong(args[++i]);
                case "--jcontainerd" -> jcs.add(Path.of(args[++i]));
                case "--containerd" -> ctd = Path.of(args[++i]);
                case "--no-containerd" -> ctd = null;
                default -> {
                    System.err.println("usage: run.sh [-n RUNS] [--idle-ms MS] [--jcontainerd LAUNCHER]... "
                            + "[--containerd BINARY | --no-containerd]");
                    System.exit(2);
                }
            }
        }
        if (jcs.isEmpty()) throw new IllegalArgumentException("--jcontainerd is required");
        if (n < 1) throw new IllegalArgumentException("-n must be at least 1");
        java.util.logging.LogManager.getLogManager().reset(); // the client's Netty warnings are noise here
        Runtime.getRuntime().addShutdownHook(new Thread(Bench::cleanUpAll));

        List<Target> targets = new ArrayList<>();
        for (Path jc : jcs) {
            targets.add(new Jcontainerd(targets.isEmpty() ? "jcontainerd" : jc.getFileName().toString(), jc));
        }
        Target containerd = null;
        if (ctd != null && Files.isExecutable(ctd)) targets.add(containerd = new Containerd(ctd));
        else System.out.println("containerd: not installed (" + ctd + "), jcontainerd only");

        Bench bench = new Bench(idleMs);
        Map<Target, List<Sample>> samples = new LinkedHashMap<>();
        for (Target t : targets) samples.put(t, new ArrayList<>());
        System.out.printf("warm-up round (discarded), then %d alternating runs, %d ms idle before RSS%n", n, idleMs);
        try {
            for (Target t : targets) bench.runOnce(t);
            for (int i = 0; i < n; i++) {
                for (Target t : targets) {
                    Sample s = bench.runOnce(t);
                    samples.get(t).add(s);
                    System.out.printf("  run %2d %-14s boot %7.1f ms (socket at %7.1f ms, %d calls, cpu %7.1f ms)  rss %5.1f MiB  anon %5.1f MiB%n",
                            i + 1, t.name(), s.bootMs(), s.socketMs(), s.attempts(), s.bootCpuMs(), s.rssMiB(), s.anonMiB());
                }
            }
        } finally {
            // the loop's thread is not a daemon: a failed run must not leave the benchmark hanging
            bench.loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
        for (Target t : targets) {
            if (t != containerd) report(t.name(), samples.get(t), containerd == null ? null : samples.get(containerd));
        }
    }

    /** Boots {@code t} on a fresh directory, measures it, stops it and removes the directory. */
    Sample runOnce(Target t) throws Exception {
        Path dir = newDir();
        Process p = null;
        try {
            Path socket = t.socket(dir);
            long t0 = System.nanoTime();
            p = spawn(t, dir);
            Poll poll = awaitVersion(p, socket, t0);
            ManagedChannel ch = poll.channel();
            double bootMs = (System.nanoTime() - t0) / 1e6;
            double bootCpuMs = cpuMs(p.pid());
            try {
                // what `ctr version` and `ctr plugins ls` would ask, then leave the daemon alone
                IntrospectionGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS)
                        .plugins(PluginsRequest.getDefaultInstance());
            } finally {
                ch.shutdownNow().awaitTermination(1, TimeUnit.SECONDS);
            }
            Thread.sleep(idleMs);
            if (!p.isAlive()) throw new IOException(t.name() + " exited with " + p.exitValue());
            long[] kb = rssKb(p.pid());
            return new Sample(bootMs, poll.socketMs(), poll.attempts(), bootCpuMs, kb[0] / 1024.0, kb[1] / 1024.0);
        } catch (Exception | Error e) {
            System.err.println(t.name() + " run failed: " + e + "\n--- daemon log (tail) ---\n" + logTail(dir));
            throw e;
        } finally {
            if (p != null) {
                stop(p);
                LIVE.remove(p);
            }
            delete(dir);
            DIRS.remove(dir);
        }
    }

    private static synchronized Path newDir() throws IOException {
        if (closing) throw new IOException("interrupted");
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "jcb"); // short: unix socket paths <= 108 bytes
        DIRS.add(dir);
        return dir;
    }

    private static synchronized Process spawn(Target t, Path dir) throws IOException {
        if (closing) throw new IOException("interrupted");
        Process p = t.spawn(dir);
        LIVE.add(p);
        return p;
    }

    /** The channel that got the first answer, when the socket appeared, and how many calls it took. */
    record Poll(ManagedChannel channel, double socketMs, int attempts) {}

    /** Polls until a Version call succeeds. */
    private Poll awaitVersion(Process p, Path socket, long t0) throws Exception {
        long socketAt = 0;
        int attempts = 0;
        while (System.nanoTime() - t0 < BOOT_TIMEOUT_NANOS) {
            if (!p.isAlive()) throw new IOException("daemon exited with " + p.exitValue() + " before answering");
            if (!Files.exists(socket)) {
                Thread.sleep(1); // a stat is cheap; keeps the resolution of the measurement fine
                continue;
            }
            if (socketAt == 0) socketAt = System.nanoTime();
            attempts++;
            // a fresh channel per attempt: a failed one would back off for a second before reconnecting
            ManagedChannel ch = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                    .eventLoopGroup(loop).channelType(EpollDomainSocketChannel.class).usePlaintext().build();
            try {
                VersionGrpc.newBlockingStub(ch).withDeadlineAfter(5, TimeUnit.SECONDS).version(Empty.getDefaultInstance());
                return new Poll(ch, (socketAt - t0) / 1e6, attempts);
            } catch (StatusRuntimeException notYet) {
                ch.shutdownNow();
                Thread.sleep(RPC_RETRY_MS);
            }
        }
        throw new IOException("no answer to Version within " + TimeUnit.NANOSECONDS.toSeconds(BOOT_TIMEOUT_NANOS) + "s");
    }

    /** Linux's USER_HZ: the unit of the tick counts in /proc/PID/stat (100 on every architecture Linux supports). */
    private static final double MS_PER_TICK = 10;

    /**
     * CPU time the process has used so far, in ms: every thread, including threads that already ended,
     * and the children it has waited for (a daemon that runs a helper process at boot pays for it). Live
     * threads count with nanosecond resolution (their scheduler run times in /proc/PID/task/TID/schedstat);
     * ended threads and waited-for children only in clock ticks (10 ms), from /proc/PID/stat: the process's
     * utime+stime minus the live threads' own ticks, plus cutime+cstime. Unlike wall-clock time it barely
     * moves when other work shares the machine.
     */
    static double cpuMs(long pid) throws IOException {
        long ns = 0;
        long liveTicks = 0;
        try (Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
            for (Path task : tasks.toList()) {
                try {
                    long[] t = statTicks(task.resolve("stat"));
                    ns += Long.parseLong(Files.readString(task.resolve("schedstat")).split(" ")[0]);
                    liveTicks += t[0];
                } catch (IOException gone) {
                    // the thread ended in between
                }
            }
        }
        long[] proc = statTicks(Path.of("/proc", Long.toString(pid), "stat"));
        return ns / 1e6 + (Math.max(0, proc[0] - liveTicks) + proc[1]) * MS_PER_TICK;
    }

    /** utime+stime and cutime+cstime of a /proc stat file, in clock ticks. */
    private static long[] statTicks(Path stat) throws IOException {
        String s = Files.readString(stat);
        String[] f = s.substring(s.lastIndexOf(')') + 2).split(" "); // f[0] is field 3 (state)
        return new long[] {Long.parseLong(f[11]) + Long.parseLong(f[12]), Long.parseLong(f[13]) + Long.parseLong(f[14])};
    }

    /** VmRSS and RssAnon of {@code pid}, in KiB. */
    static long[] rssKb(long pid) throws IOException {
        long rss = -1, anon = -1;
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith("VmRSS:")) rss = kb(line);
            else if (line.startsWith("RssAnon:")) anon = kb(line);
        }
        if (rss < 0) throw new IOException("no VmRSS for pid " + pid);
        return new long[] {rss, anon};
    }

    private static long kb(String line) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
    }

    /** SIGTERM, ten seconds' grace, then SIGKILL. */
    static void stop(Process p) {
        if (!p.isAlive()) return;
        p.destroy();
        try {
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                System.err.println("pid " + p.pid() + " ignored SIGTERM for 10s, sending SIGKILL");
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    static void delete(Path dir) {
        // Files.walk does not follow symbolic links, so nothing outside dir is touched
        try (Stream<Path> paths = Files.walk(dir)) {
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

    static synchronized void cleanUpAll() {
        closing = true;
        LIVE.forEach(Bench::stop);
        DIRS.forEach(Bench::delete);
    }

    static String logTail(Path dir) {
        try {
            List<String> lines = Files.readAllLines(dir.resolve("daemon.log"));
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "(no log)";
        }
    }

    // ---- report ----

    /** A row of the table; target is the highest allowed jcontainerd/containerd ratio, or 0 for none. */
    record Row(String workload, ToDoubleFunction<Sample> metric, double target) {}

    static void report(String name, List<Sample> jc, List<Sample> ctd) {
        List<Row> rows = List.of(
                new Row("boot to first Version (ms)", Sample::bootMs, 5),
                new Row("CPU used by then, all threads + children (ms)", Sample::bootCpuMs, 0),
                new Row("idle RSS, VmRSS (MiB)", Sample::rssMiB, 2),
                new Row("idle RSS, anonymous only (MiB)", Sample::anonMiB, 0));
        System.out.println();
        System.out.printf("%-34s %22s %22s %8s  %s%n", "workload", name + " med (min)", "containerd med (min)",
                "ratio", "target");
        boolean allMet = true;
        for (Row r : rows) {
            double jm = median(jc, r.metric()), jmin = min(jc, r.metric());
            String ctdCol = "-", ratio = "-", verdict = "";
            if (ctd != null) {
                double cm = median(ctd, r.metric()), cmin = min(ctd, r.metric());
                double q = jm / cm;
                ctdCol = "%10.1f (%8.1f)".formatted(cm, cmin);
                ratio = "%7.2fx".formatted(q);
                if (r.target() > 0) {
                    boolean met = q <= r.target();
                    allMet &= met;
                    verdict = "<= %.0fx %s".formatted(r.target(), met ? "met" : "NOT met");
                } else {
                    verdict = "(info)";
                }
            } else if (r.target() > 0) {
                verdict = "<= %.0fx (no containerd to compare)".formatted(r.target());
            }
            System.out.printf("%-34s %10.1f (%8.1f) %22s %8s  %s%n", r.workload(), jm, jmin, ctdCol, ratio, verdict);
        }
        if (ctd != null) System.out.println(allMet ? "all targets met" : "some targets not met (report only)");
    }

    static double median(List<Sample> s, ToDoubleFunction<Sample> f) {
        double[] v = s.stream().mapToDouble(f).sorted().toArray();
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    static double min(List<Sample> s, ToDoubleFunction<Sample> f) {
        return s.stream().mapToDouble(f).min().orElse(Double.NaN);
    }
}
