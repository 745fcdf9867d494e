package io.jcontainerd.ttrpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import com.google.protobuf.Empty;
import io.jcontainerd.api.events.TaskCreate;
import io.jcontainerd.api.events.TaskDelete;
import io.jcontainerd.api.services.events.ttrpc.v1.Envelope;
import io.jcontainerd.api.services.events.ttrpc.v1.ForwardRequest;
import io.jcontainerd.api.task.v2.ConnectRequest;
import io.jcontainerd.api.task.v2.ConnectResponse;
import io.jcontainerd.api.task.v2.CreateTaskRequest;
import io.jcontainerd.api.task.v2.CreateTaskResponse;
import io.jcontainerd.api.task.v2.DeleteRequest;
import io.jcontainerd.api.task.v2.DeleteResponse;
import io.jcontainerd.api.task.v2.ShutdownRequest;
import io.jcontainerd.api.task.v2.StateRequest;
import io.jcontainerd.api.task.v2.StateResponse;
import io.jcontainerd.errdefs.ContainerdException;
import io.jcontainerd.errdefs.ErrorKind;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIf;

/**
 * Interop with containerd's own ttrpc (Go), through Debian's runc v2 shim: our client calls the
 * shim's Task service, and the shim's event publisher (a Go ttrpc client) calls our server's
 * Events/Forward. Runs only where the shim is installed and we are root.
 */
@EnabledIf("shimAvailable")
@Timeout(120)
class ShimInteropTest {
    static final Path SHIM = Path.of("/usr/bin/containerd-shim-runc-v2");
    static final String TASK = "containerd.task.v2.Task";
    static final String NS = "jctest";
    static final Duration T = Duration.ofSeconds(20);

    static boolean shimAvailable() {
        return Files.isExecutable(SHIM) && "root".equals(System.getProperty("user.name"));
    }

    Path dir;
    Path bundle;
    String id;
    FileChannel logFifo;
    Thread logDrainer;
    TtrpcServer events;
    final BlockingQueue<Forwarded> forwarded = new LinkedBlockingQueue<>();
    Path shimSocket;
    TtrpcClient client;
    boolean containerCreated;

    record Forwarded(Optional<String> namespace, Envelope envelope) {}

    @BeforeEach
    void startShim() throws Exception {
        dir = Files.createTempDirectory(Path.of("/tmp"), "jct");
        bundle = Files.createDirectory(dir.resolve("bundle"));
        id = "jct-" + Long.toHexString(System.nanoTime());

        // the daemon's side of event forwarding: our server where the shim's Go client sends events
        events = new TtrpcServer();
        events.register("containerd.services.events.ttrpc.v1.Events", Map.of("Forward",
                Method.unary(ForwardRequest.parser(), (ctx, req) -> {
                    forwarded.add(new Forwarded(ctx.namespace(), req.getEnvelope()));
                    return Empty.getDefaultInstance();
                })));
        Path eventsSocket = dir.resolve("d.sock.ttrpc");
        events.start(eventsSocket);

        // the shim writes its log into a FIFO named "log" in the bundle; holding it open read-write
        // means the shim's open never blocks, and a drainer keeps the pipe from filling up
        run(List.of("mkfifo", bundle.resolve("log").toString()));
        logFifo = FileChannel.open(bundle.resolve("log"), StandardOpenOption.READ, StandardOpenOption.WRITE);
        logDrainer = Thread.ofPlatform().daemon().start(() -> {
            ByteBuffer b = ByteBuffer.allocate(8192);
            try {
                while (logFifo.read(b.clear()) >= 0) { }
            } catch (IOException closed) {
                // test over
            }
        });

        Files.writeString(bundle.resolve("config.json"), "{\"ociVersion\":\"1.0.2\"}");
        ProcessBuilder pb = new ProcessBuilder(SHIM.toString(), "-namespace", NS, "-address", dir.resolve("d.sock").toString(),
                "-publish-binary", "/bin/true", "-id", id, "start")
                .directory(bundle.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectError(dir.resolve("start.err").toFile());
        pb.environment().putAll(Map.of("TTRPC_ADDRESS", eventsSocket.toString(), "GRPC_ADDRESS", dir.resolve("d.sock").toString(),
                "NAMESPACE", NS, "MAX_SHIM_VERSION", "2"));
        Process start = pb.start();
        String out = new String(start.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertThat(start.waitFor(20, TimeUnit.SECONDS)).isTrue();
        assertThat(start.exitValue()).as("shim start failed: %s", Files.readString(dir.resolve("start.err"))).isZero();
        // 1.6 prints the bare address; newer shims print JSON with an "address" field
        String address = out.startsWith("{") ? out.replaceAll(".*\"address\"\\s*:\\s*\"([^\"]+)\".*", "$1") : out;
        assertThat(address).startsWith("unix://");
        shimSocket = Path.of(address.substring("unix://".length()));
        client = TtrpcClient.connect(shimSocket);
    }

    @AfterEach
    void cleanUp() throws Exception {
        if (client != null) client.close();
        if (containerCreated) {
            // in case the test failed between create and delete
            new ProcessBuilder("runc", "--root", "/run/containerd/runc/" + NS, "delete", "--force", id)
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor(10, TimeUnit.SECONDS);
        }
        // only the shim started for this test carries our unique id and temp dir on its command line
        ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().map(c -> c.startsWith(SHIM.toString()) && c.contains(" -id " + id + " ")
                        && c.contains(dir.toString())).orElse(false))
                .forEach(p -> {
                    p.destroyForcibly();
                    p.onExit().orTimeout(10, TimeUnit.SECONDS).join();
                });
        if (shimSocket != null) Files.deleteIfExists(shimSocket);
        try {
            Files.deleteIfExists(Path.of("/run/containerd/runc", NS)); // the shim's runc root, empty by now
        } catch (java.nio.file.DirectoryNotEmptyException inUse) {
            // another run still has containers there
        }
        if (events != null) events.close();
        if (logFifo != null) logFifo.close();
        if (logDrainer != null) logDrainer.join(2000);
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }

    private Map<String, String> md() {
        return Map.of(RequestContext.NAMESPACE_KEY, NS);
    }

    @Test
    void connectStateUnknownMethodAndShutdown() throws Exception {
        ConnectResponse c = client.call(TASK, "Connect", ConnectRequest.newBuilder().setId(id).build(), ConnectResponse.parser(), md(), T);
        assertThat(c.getShimPid()).isPositive();
        ProcessHandle shim = ProcessHandle.of(c.getShimPid()).orElseThrow();
        assertThat(shim.info().commandLine().orElse("")).contains(id);

        // Go errdefs travel back as gRPC codes in the ttrpc status
        assertThatThrownBy(() -> client.call(TASK, "State", StateRequest.newBuilder().setId(id).build(), StateResponse.parser(), md(), T))
                .isInstanceOfSatisfying(ContainerdException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.NOT_FOUND));
        assertThatThrownBy(() -> client.call(TASK, "NoSuchMethod", ByteString.EMPTY, md(), T))
                .isInstanceOfSatisfying(ContainerdException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.NOT_IMPLEMENTED));
        assertThatThrownBy(() -> client.call("no.such.Service", "X", ByteString.EMPTY, md(), T))
                .isInstanceOfSatisfying(ContainerdException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.NOT_IMPLEMENTED));

        // concurrent calls multiplexed on the one connection
        try (var ex = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            var results = java.util.stream.IntStream.range(0, 50)
                    .mapToObj(i -> ex.submit(() -> client.call(TASK, "Connect", ConnectRequest.newBuilder().setId(id).build(),
                            ConnectResponse.parser(), md(), T).getShimPid()))
                    .toList();
            for (var r : results) assertThat(r.get()).isEqualTo(c.getShimPid());
        }

        shutdown(shim);
    }

    @Test
    void createAndDeleteForwardEventsToOurServer() throws Exception {
        ConnectResponse c = client.call(TASK, "Connect", ConnectRequest.newBuilder().setId(id).build(), ConnectResponse.parser(), md(), T);
        ProcessHandle shim = ProcessHandle.of(c.getShimPid()).orElseThrow();
        prepareBusyboxBundle();

        CreateTaskResponse created = client.call(TASK, "Create", CreateTaskRequest.newBuilder().setId(id).setBundle(bundle.toString()).build(),
                CreateTaskResponse.parser(), md(), T);
        containerCreated = true;
        assertThat(created.getPid()).isPositive();

        Forwarded f = forwarded.poll(20, TimeUnit.SECONDS);
        assertThat(f).as("no TaskCreate forwarded").isNotNull();
        assertThat(f.namespace()).contains(NS);
        assertThat(f.envelope().getNamespace()).isEqualTo(NS);
        assertThat(f.envelope().getTopic()).isEqualTo("/tasks/create");
        TaskCreate tc = TaskCreate.parseFrom(f.envelope().getEvent().getValue());
        assertThat(tc.getContainerId()).isEqualTo(id);
        assertThat(tc.getPid()).isEqualTo(created.getPid());

        DeleteResponse deleted = client.call(TASK, "Delete", DeleteRequest.newBuilder().setId(id).build(), DeleteResponse.parser(), md(), T);
        containerCreated = false;
        assertThat(deleted.getPid()).isEqualTo(created.getPid());
        // deleting a created-but-never-started task kills its init first: /tasks/exit, then /tasks/delete
        Forwarded d = forwarded.poll(20, TimeUnit.SECONDS);
        assertThat(d).as("no event forwarded after delete").isNotNull();
        if (d.envelope().getTopic().equals("/tasks/exit")) d = forwarded.poll(20, TimeUnit.SECONDS);
        assertThat(d).as("no TaskDelete forwarded").isNotNull();
        assertThat(d.envelope().getTopic()).isEqualTo("/tasks/delete");
        assertThat(TaskDelete.parseFrom(d.envelope().getEvent().getValue()).getContainerId()).isEqualTo(id);

        shutdown(shim);
    }

    /** Shutdown may lose its reply when the shim exits at once; containerd tolerates that too. */
    private void shutdown(ProcessHandle shim) throws Exception {
        try {
            client.call(TASK, "Shutdown", ShutdownRequest.newBuilder().setId(id).setNow(true).build(), Empty.parser(), md(), T);
        } catch (ContainerdException e) {
            assertThat(e.kind()).isEqualTo(ErrorKind.UNAVAILABLE);
        }
        shim.onExit().get(20, TimeUnit.SECONDS);
        client.whenClosed().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    /** A root filesystem with busybox and an OCI spec from runc, made to run without a terminal. */
    private void prepareBusyboxBundle() throws Exception {
        Path bin = Files.createDirectories(bundle.resolve("rootfs/bin"));
        Files.copy(Path.of("/bin/busybox"), bin.resolve("busybox"));
        Files.createSymbolicLink(bin.resolve("sh"), Path.of("busybox"));
        Files.delete(bundle.resolve("config.json"));
        run(List.of("runc", "spec", "--bundle", bundle.toString()));
        String spec = Files.readString(bundle.resolve("config.json")).replace("\"terminal\": true", "\"terminal\": false");
        Files.writeString(bundle.resolve("config.json"), spec);
    }

    private static void run(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("%s: %s", cmd, out).isZero();
    }
}
