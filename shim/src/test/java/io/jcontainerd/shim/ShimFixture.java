package io.jcontainerd.shim;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Empty;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import io.jcontainerd.api.services.events.ttrpc.v1.Envelope;
import io.jcontainerd.api.services.events.ttrpc.v1.ForwardRequest;
import io.jcontainerd.api.task.v2.ConnectRequest;
import io.jcontainerd.api.task.v2.ConnectResponse;
import io.jcontainerd.ttrpc.Method;
import io.jcontainerd.ttrpc.RequestContext;
import io.jcontainerd.ttrpc.TtrpcClient;
import io.jcontainerd.ttrpc.TtrpcServer;
import java.io.ByteArrayOutputStream;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Drives a runtime v2 shim the way containerd does, without a daemon: a fake-but-real events server on
 * TTRPC_ADDRESS (our ttrpc server collecting Forward calls), the bundle's log FIFO drained, the {@code start}
 * action with the daemon's arguments and environment, a ttrpc client on the printed address. Everything
 * it creates is torn down in {@link #close()}, also after failures.
 */
final class ShimFixture implements AutoCloseable {
    static final String TASK = "containerd.task.v2.Task";
    static final String NS = "jcshimtest";
    static final Duration T = Duration.ofSeconds(30);
    static final Path DEBIAN_SHIM = Path.of("/usr/bin/containerd-shim-runc-v2");

    record Forwarded(Optional<String> namespace, Envelope envelope) {}

    final Path shimBinary;
    final Path dir;
    final Path image;
    final List<Bundle> bundles = new ArrayList<>();
    final TtrpcServer events = new TtrpcServer();
    final BlockingQueue<Forwarded> forwarded = new LinkedBlockingQueue<>();
    final Path eventsSocket;
    final Path daemonAddress;
    final List<TtrpcClient> clients = new ArrayList<>();
    final List<Path> shimSockets = new ArrayList<>();
    final List<Thread> threads = new ArrayList<>();

    ShimFixture(Path shimBinary) throws Exception {
        this.shimBinary = shimBinary;
        dir = Files.createTempDirectory(Path.of("/tmp"), "jcs");
        image = Files.createDirectories(dir.resolve("image"));
        Path bin = Files.createDirectories(image.resolve("bin"));
        Files.copy(Path.of("/bin/busybox"), bin.resolve("busybox"));
        for (String applet : List.of("sh", "echo", "cat", "sleep", "true", "dd", "head", "yes", "stty")) {
            Files.createSymbolicLink(bin.resolve(applet), Path.of("busybox"));
        }
        daemonAddress = dir.resolve("d.sock");
        eventsSocket = dir.resolve("d.sock.ttrpc");
        events.register("containerd.services.events.ttrpc.v1.Events", Map.of("Forward",
                Method.unary(ForwardRequest.parser(), (ctx, req) -> {
                    forwarded.add(new Forwarded(ctx.namespace(), req.getEnvelope()));
                    return Empty.getDefaultInstance();
                })));
        events.start(eventsSocket);
    }

    /** One container's bundle: config.json from {@code runc spec} with the given args. */
    final class Bundle {
        final String id;
        final Path path;
        final FileChannel log;
        String address;
        TtrpcClient client;
        boolean created;

        Bundle(String id, Map<String, String> annotations, String... args) throws Exception {
            this.id = id;
            path = Files.createDirectory(dir.resolve(id));
            run(List.of("runc", "spec", "--bundle", path.toString()));
            String spec = Files.readString(path.resolve("config.json"))
                    .replace("\"terminal\": true", "\"terminal\": false")
                    .replace("\"readonly\": true", "\"readonly\": false");
            String argv = String.join(",", java.util.Arrays.stream(args).map(a -> "\"" + a.replace("\"", "\\\"") + "\"").toList());
            spec = spec.replaceFirst("\"args\": \\[\\s*\"sh\"\\s*\\]", "\"args\": [" + argv + "]");
            if (!annotations.isEmpty()) {
                StringBuilder a = new StringBuilder("{\n\t\"annotations\": {");
                annotations.forEach((k, v) -> a.append('"').append(k).append("\":\"").append(v).append("\","));
                a.setLength(a.length() - 1);
                a.append("},");
                spec = spec.replaceFirst("\\{", a.toString());
            }
            Files.writeString(path.resolve("config.json"), spec);
            // the shim logs into a FIFO the daemon reads: held open read-write here and drained
            run(List.of("mkfifo", path.resolve("log").toString()));
            log = FileChannel.open(path.resolve("log"), StandardOpenOption.READ, StandardOpenOption.WRITE);
            threads.add(Thread.ofPlatform().daemon().start(() -> {
                ByteBuffer b = ByteBuffer.allocate(8192);
                try {
                    while (log.read(b.clear()) >= 0) { }
                } catch (IOException closed) {
                    // done
                }
            }));
            bundles.add(this);
        }

        /** {@code <shim> ... start} in the bundle, as the daemon runs it; connects a client. */
        TtrpcClient start() throws Exception {
            ProcessBuilder pb = new ProcessBuilder(shimBinary.toString(), "-namespace", NS, "-address", daemonAddress.toString(),
                    "-publish-binary", "/bin/true", "-id", id, "start")
                    .directory(path.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .redirectError(dir.resolve(id + ".start.err").toFile());
            pb.environment().putAll(Map.of("TTRPC_ADDRESS", eventsSocket.toString(), "GRPC_ADDRESS", daemonAddress.toString(),
                    "NAMESPACE", NS, "MAX_SHIM_VERSION", "2"));
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as("shim start failed: %s", Files.readString(dir.resolve(id + ".start.err"))).isZero();
            address = out.startsWith("{") ? out.replaceAll(".*\"address\"\\s*:\\s*\"([^\"]+)\".*", "$1") : out;
            assertThat(address).startsWith("unix://");
            assertThat(Files.readString(path.resolve("address"))).isEqualTo(address);
            Path sock = Path.of(address.substring("unix://".length()));
            if (!shimSockets.contains(sock)) shimSockets.add(sock);
            client = TtrpcClient.connect(sock);
            clients.add(client);
            return client;
        }

        <T extends Message> T call(String method, Message req, Parser<T> parser) {
            return client.call(TASK, method, req, parser, Map.of(RequestContext.NAMESPACE_KEY, NS), T);
        }

        long shimPid() {
            return call("Connect", ConnectRequest.newBuilder().setId(id).build(), ConnectResponse.parser()).getShimPid();
        }

        Path rootfs() {
            return path.resolve("rootfs");
        }
    }

    /** A FIFO the test reads from (the client's stdout), opened in the background as containerd's client does. */
    final class Output {
        final Path path;
        final CompletableFuture<byte[]> data = new CompletableFuture<>();

        Output(String name) throws Exception {
            path = dir.resolve(name);
            run(List.of("mkfifo", path.toString()));
            threads.add(Thread.ofPlatform().daemon().start(() -> {
                try (InputStream in = new FileInputStream(path.toFile())) {
                    ByteArrayOutputStream b = new ByteArrayOutputStream();
                    in.transferTo(b);
                    data.complete(b.toByteArray());
                } catch (IOException e) {
                    data.completeExceptionally(e);
                }
            }));
        }

        String text() throws Exception {
            return new String(data.get(30, TimeUnit.SECONDS), StandardCharsets.UTF_8);
        }
    }

    /** A FIFO the test writes to (the client's stdin), opened in the background. */
    final class Input {
        final Path path;
        final CompletableFuture<OutputStream> stream = new CompletableFuture<>();

        Input(String name) throws Exception {
            path = dir.resolve(name);
            run(List.of("mkfifo", path.toString()));
            threads.add(Thread.ofPlatform().daemon().start(() -> {
                try {
                    stream.complete(new FileOutputStream(path.toFile()));
                } catch (IOException e) {
                    stream.completeExceptionally(e);
                }
            }));
        }

        void write(String s) throws Exception {
            OutputStream o = stream.get(30, TimeUnit.SECONDS);
            o.write(s.getBytes(StandardCharsets.UTF_8));
            o.flush();
        }

        void close() throws Exception {
            stream.get(30, TimeUnit.SECONDS).close();
        }
    }

    /** The next forwarded event (30 s at most). */
    Forwarded nextEvent() throws InterruptedException {
        Forwarded f = forwarded.poll(30, TimeUnit.SECONDS);
        assertThat(f).as("no event forwarded").isNotNull();
        return f;
    }

    /** The topics of events for {@code containerId} until one with {@code lastTopic} arrives. */
    List<String> topicsUntil(String lastTopic) throws Exception {
        List<String> topics = new ArrayList<>();
        while (true) {
            Forwarded f = nextEvent();
            topics.add(f.envelope().getTopic());
            if (f.envelope().getTopic().equals(lastTopic)) return topics;
        }
    }

    static void run(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("%s: %s", cmd, out).isZero();
    }

    static int runQuietly(List<String> cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return -1;
            }
            return p.exitValue();
        } catch (Exception e) {
            return -1;
        }
    }

    /** Shim processes started for this fixture: their command line names one of our ids and our directory. */
    List<ProcessHandle> shimProcesses() {
        return ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().map(c -> c.contains(dir.toString())
                        && bundles.stream().anyMatch(b -> c.contains(" -id " + b.id + " "))).orElse(false))
                .toList();
    }

    @Override
    public void close() throws Exception {
        for (TtrpcClient c : clients) c.close();
        for (Bundle b : bundles) {
            runQuietly(List.of("runc", "--root", "/run/containerd/runc/" + NS, "delete", "--force", b.id));
        }
        for (ProcessHandle p : shimProcesses()) {
            p.destroyForcibly();
            p.onExit().orTimeout(10, TimeUnit.SECONDS).exceptionally(t -> null).join();
        }
        for (Bundle b : bundles) {
            while (runQuietly(List.of("umount", b.rootfs().toString())) == 0) { }
            b.log.close();
        }
        for (Path s : shimSockets) Files.deleteIfExists(s);
        try {
            Files.deleteIfExists(Path.of("/run/containerd/runc", NS)); // runc's root for the namespace, empty by now
        } catch (java.nio.file.DirectoryNotEmptyException inUse) {
            // another fixture still has containers there
        }
        events.close();
        for (Thread t : threads) t.interrupt();
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException busy) {
                    // a FIFO still held by a stuck reader thread: removed with its directory next time
                }
            }
        }
    }
}
