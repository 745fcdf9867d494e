package io.jcontainerd.testing;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.stub.AbstractStub;
import io.grpc.stub.MetadataUtils;
import io.jcontainerd.api.services.version.v1.VersionGrpc;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real jcontainerd process on a private root, state and socket, started from the test class path.
 * {@link #close()} always stops it (SIGTERM, then SIGKILL), unmounts anything left under its root and
 * deletes its directories.
 */
public final class DaemonProcess implements AutoCloseable {
    public static final String JAVA = "/usr/lib/jvm/temurin-25-jdk-amd64/bin/java";

    private final Path dir;
    private final Path root;
    private final Path state;
    private final Path socket;
    private final Path configFile;
    private final Path log;
    private Process process;
    private EventLoopGroup clientLoop;
    private ManagedChannel channel;

    private DaemonProcess(Path dir) {
        this.dir = dir;
        this.root = dir.resolve("root");
        this.state = dir.resolve("state");
        this.socket = dir.resolve("s/jcontainerd.sock");
        this.configFile = dir.resolve("config.toml");
        this.log = dir.resolve("daemon.log");
    }

    /**
     * The config of {@link #start()}: the embedded defaults, with {@code io.containerd.runc.v2} on Debian's Go
     * shim spelled out, since the Java shim (the default when installed beside the daemon) is built after
     * the daemon module.
     */
    public static final String DEFAULT_CONFIG = """
            version = 2
            [plugins."io.containerd.runtime.v2.task".runtimes."io.containerd.runc.v2"]
              shim_binary = "containerd-shim-runc-v2"
            """;

    /**
     * {@link #DEFAULT_CONFIG} with no automatic collections: for tests that check objects nothing references
     * (ctr 1.6 keeps no lease on what `content ingest` or `snapshots prepare` made). No start-up collection,
     * thresholds out of reach, and after an explicit one (e.g. `leases rm --sync`) the scheduler's periodic
     * re-check (average pause / pause_threshold) pushed out of the test's way.
     */
    public static final String WITHOUT_AUTOMATIC_GC = DEFAULT_CONFIG + """
            [plugins."io.containerd.gc.v1.scheduler"]
              startup_delay = "0s"
              deletion_threshold = 1000000
              mutation_threshold = 1000000
              pause_threshold = 0.00001
            """;

    /** A daemon with {@link #DEFAULT_CONFIG}. */
    public static DaemonProcess start() throws IOException {
        return start(DEFAULT_CONFIG);
    }

    /** A daemon with {@code configToml} as its config file (null: none). */
    public static DaemonProcess start(String configToml) throws IOException {
        // unix socket paths are limited to 108 bytes: keep the directory short
        DaemonProcess d = new DaemonProcess(Files.createTempDirectory(Path.of("/tmp"), "jcd"));
        if (configToml != null) Files.writeString(d.configFile, configToml);
        try {
            d.launch();
            d.awaitServing(Duration.ofSeconds(30));
        } catch (IOException | RuntimeException | Error e) {
            String logText = d.logText();
            d.close();
            throw new IllegalStateException("daemon did not come up: " + e.getMessage() + "\n--- daemon log ---\n" + logText, e);
        }
        return d;
    }

    /** The daemon command line with these directories and socket, so tests can start another one by hand. */
    public List<String> command(Path root, Path state, String address) {
        List<String> cmd = new ArrayList<>(List.of(JAVA, "--enable-native-access=ALL-UNNAMED", "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), "io.jcontainerd.cmd.Main",
                "--config", configFile.toString(), "--root", root.toString(), "--state", state.toString(),
                "--address", address));
        return cmd;
    }

    private void launch() throws IOException {
        process = new ProcessBuilder(command(root, state, socket.toString()))
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    /** (Re)starts a stopped daemon on the same directories. */
    public void restart() throws IOException {
        stopProcess();
        launch();
        awaitServing(Duration.ofSeconds(30));
    }

    private void awaitServing(Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) throw new IOException("daemon exited with " + process.exitValue());
            if (Files.exists(socket)) {
                try {
                    VersionGrpc.newBlockingStub(channel()).withDeadlineAfter(2, TimeUnit.SECONDS)
                            .version(com.google.protobuf.Empty.getDefaultInstance());
                    return;
                } catch (StatusRuntimeException notYet) {
                    // listener not ready yet
                }
            }
            sleep(20);
        }
        throw new IOException("daemon did not answer within " + timeout);
    }

    public synchronized ManagedChannel channel() {
        if (channel == null) {
            clientLoop = new EpollEventLoopGroup(1);
            channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                    .eventLoopGroup(clientLoop).channelType(EpollDomainSocketChannel.class)
                    .usePlaintext().build();
        }
        return channel;
    }

    /** {@code stub} sending the {@code containerd-namespace} header. */
    public static <S extends AbstractStub<S>> S inNamespace(S stub, String namespace) {
        return inNamespace(stub, namespace, null);
    }

    /** {@code stub} sending the namespace and, when not null, the {@code containerd-lease} header. */
    public static <S extends AbstractStub<S>> S inNamespace(S stub, String namespace, String lease) {
        Metadata md = new Metadata();
        md.put(Metadata.Key.of("containerd-namespace", Metadata.ASCII_STRING_MARSHALLER), namespace);
        if (lease != null) md.put(Metadata.Key.of("containerd-lease", Metadata.ASCII_STRING_MARSHALLER), lease);
        return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md));
    }

    public Path socket() {
        return socket;
    }

    public String address() {
        return socket.toString();
    }

    public Path root() {
        return root;
    }

    public Path state() {
        return state;
    }

    public Path configFile() {
        return configFile;
    }

    public Process process() {
        return process;
    }

    public String logText() {
        try {
            return Files.exists(log) ? Files.readString(log) : "";
        } catch (IOException e) {
            return "(log unreadable: " + e + ")";
        }
    }

    /** Sends SIGTERM and waits for exit; returns the exit code. */
    public int terminate(Duration timeout) throws InterruptedException {
        closeChannel();
        process.destroy();
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly().waitFor();
            throw new AssertionError("daemon did not stop within " + timeout + "\n" + logText());
        }
        return process.exitValue();
    }

    /**
     * kill -9: SIGKILL the daemon and wait until it is gone, leaving its root, state and socket file as a
     * crash would; {@link #restart()} starts it again on the same directories.
     */
    public void kill() throws InterruptedException {
        closeChannel();
        if (process == null) return;
        process.destroyForcibly();
        if (!process.waitFor(30, TimeUnit.SECONDS)) throw new AssertionError("daemon survived SIGKILL for 30s");
    }

    private void stopProcess() {
        closeChannel();
        if (process == null) return;
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) process.destroyForcibly().waitFor();
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    private synchronized void closeChannel() {
        if (channel != null) {
            channel.shutdownNow();
            clientLoop.shutdownGracefully(0, 100, TimeUnit.MILLISECONDS);
            channel = null;
        }
    }

    @Override
    public void close() {
        stopProcess();
        Cleanup.unmountUnder(dir);
        Cleanup.deleteTree(dir);
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Best-effort removal helpers shared by fixtures. */
    public static final class Cleanup {
        private Cleanup() {}

        public static void unmountUnder(Path dir) {
            try {
                for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo")).reversed()) {
                    String[] f = line.split(" ");
                    if (f.length > 4 && f[4].startsWith(dir.toString())) {
                        new ProcessBuilder("umount", "-l", f[4]).inheritIO().start().waitFor();
                    }
                }
            } catch (IOException | InterruptedException ignored) {
                // nothing mounted, or nothing we can do
            }
        }

        public static void deleteTree(Path dir) {
            if (!Files.exists(dir)) return;
            try (var walk = Files.walk(dir)) {
                walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                    try {
                        Files.deleteIfExists(p);
                    } catch (IOException ignored) {
                        // left for the OS's tmp cleaning
                    }
                });
            } catch (IOException ignored) {
                // as above
            }
        }
    }
}
