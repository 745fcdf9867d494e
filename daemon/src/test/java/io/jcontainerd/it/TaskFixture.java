package io.jcontainerd.it;

import static io.jcontainerd.testing.DaemonProcess.inNamespace;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import io.jcontainerd.api.services.containers.v1.Container;
import io.jcontainerd.api.services.containers.v1.ContainersGrpc;
import io.jcontainerd.api.services.containers.v1.CreateContainerRequest;
import io.jcontainerd.api.services.events.v1.Envelope;
import io.jcontainerd.api.services.events.v1.EventsGrpc;
import io.jcontainerd.api.services.events.v1.SubscribeRequest;
import io.jcontainerd.api.services.tasks.v1.CreateTaskRequest;
import io.jcontainerd.api.services.tasks.v1.TasksGrpc;
import io.jcontainerd.api.types.Mount;
import io.jcontainerd.testing.DaemonProcess;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Containers and tasks for runtime tests without images: a busybox root filesystem in a directory,
 * bind-mounted as the task's rootfs, and an OCI spec from {@code runc spec} with the test's args.
 * {@link #close()} removes every trace even after a failure: runc containers, shims, mounts, sockets.
 */
final class TaskFixture implements AutoCloseable {
    static final String RUNTIME = "io.containerd.runc.v2";
    static final String SHIM = "/usr/bin/containerd-shim-runc-v2";
    static final String SPEC_URL = "types.containerd.io/opencontainers/runtime-spec/1/Spec";

    final DaemonProcess daemon;
    final String ns;
    final Path dir;
    final Path rootfs;
    private final String specTemplate;
    private final List<String> ids = new ArrayList<>();
    private final List<Path> shimSockets = new ArrayList<>();

    static boolean available() {
        return "root".equals(System.getProperty("user.name")) && Files.isExecutable(Path.of(SHIM))
                && Files.isExecutable(Path.of("/usr/sbin/runc")) && Files.isExecutable(Path.of("/bin/busybox"))
                && Files.isExecutable(Path.of("/usr/bin/ctr"));
    }

    TaskFixture(DaemonProcess daemon, String ns) throws Exception {
        this.daemon = daemon;
        this.ns = ns;
        this.dir = Files.createTempDirectory(Path.of("/tmp"), "jcrt");
        this.rootfs = Files.createDirectories(dir.resolve("rootfs"));
        Path bin = Files.createDirectories(rootfs.resolve("bin"));
        Files.copy(Path.of("/bin/busybox"), bin.resolve("busybox"));
        for (String applet : List.of("sh", "sleep", "echo", "cat", "ls", "true")) {
            Files.createSymbolicLink(bin.resolve(applet), Path.of("busybox"));
        }
        for (String d : List.of("proc", "dev", "sys", "tmp")) Files.createDirectories(rootfs.resolve(d));
        Path specDir = Files.createDirectories(dir.resolve("spec"));
        run("runc", "spec", "--bundle", specDir.toString());
        specTemplate = Files.readString(specDir.resolve("config.json"))
                .replace("\"terminal\": true", "\"terminal\": false")
                .replace("\"readonly\": true", "\"readonly\": false");
    }

    /** An OCI spec running {@code args} without a terminal, root "rootfs". */
    String spec(String... args) {
        String json = List.of(args).stream().map(a -> "\"" + a.replace("\\", "\\\\").replace("\"", "\\\"") + "\"")
                .collect(Collectors.joining(", ", "[", "]"));
        return specTemplate.replaceFirst("\"args\": \\[[^\\]]*\\]", java.util.regex.Matcher.quoteReplacement("\"args\": " + json));
    }

    /** Creates container {@code id} over gRPC with the runc v2 runtime and a spec running {@code args}. */
    void container(String id, String... args) {
        ids.add(id);
        inNamespace(ContainersGrpc.newBlockingStub(daemon.channel()), ns).create(CreateContainerRequest.newBuilder()
                .setContainer(Container.newBuilder().setId(id).setRuntime(Container.Runtime.newBuilder().setName(RUNTIME))
                        .setSpec(Any.newBuilder().setTypeUrl(SPEC_URL).setValue(ByteString.copyFrom(spec(args), StandardCharsets.UTF_8))))
                .build());
    }

    TasksGrpc.TasksBlockingStub tasks() {
        return inNamespace(TasksGrpc.newBlockingStub(daemon.channel()), ns);
    }

    /** A Tasks.Create request with the fixture's rootfs bind-mounted, no stdio. */
    CreateTaskRequest.Builder createRequest(String id) {
        return CreateTaskRequest.newBuilder().setContainerId(id)
                .addRootfs(Mount.newBuilder().setType("bind").setSource(rootfs.toString()).addOptions("rbind").addOptions("rw"));
    }

    /** Creates the task, remembering its shim socket for cleanup. */
    int createTask(CreateTaskRequest req) throws IOException {
        int pid = tasks().create(req).getPid();
        Path address = bundle(req.getContainerId()).resolve("address");
        if (Files.exists(address)) {
            String a = Files.readString(address).trim();
            shimSockets.add(Path.of(a.startsWith("unix://") ? a.substring(7) : a));
        }
        return pid;
    }

    Path bundle(String id) {
        return daemon.state().resolve("io.containerd.runtime.v2.task").resolve(ns).resolve(id);
    }

    /** A FIFO in the fixture's directory, and a reader collecting everything written to it until EOF. */
    record Fifo(Path path, CompletableFuture<String> content) {}

    Fifo fifo(String name) throws Exception {
        Path p = dir.resolve(name);
        run("mkfifo", p.toString());
        CompletableFuture<String> content = new CompletableFuture<>();
        Thread.ofPlatform().daemon().start(() -> {
            try {
                content.complete(Files.readString(p)); // opening blocks until the shim opens the write side
            } catch (IOException e) {
                content.completeExceptionally(e);
            }
        });
        return new Fifo(p, content);
    }

    /** Events of the fixture's namespace, from now on. */
    BlockingQueue<Envelope> subscribe() {
        BlockingQueue<Envelope> q = new LinkedBlockingQueue<>();
        var it = EventsGrpc.newBlockingStub(daemon.channel())
                .subscribe(SubscribeRequest.newBuilder().addFilters("namespace==" + ns).build());
        Thread.ofPlatform().daemon().start(() -> {
            try {
                while (it.hasNext()) q.add(it.next());
            } catch (RuntimeException closed) {
                // channel closed at the end of the test
            }
        });
        return q;
    }

    /** The next event on {@code topic}, skipping others; fails after 20 s. */
    static Envelope next(BlockingQueue<Envelope> q, String topic) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            Envelope e = q.poll(200, TimeUnit.MILLISECONDS);
            if (e != null && e.getTopic().equals(topic)) return e;
        }
        throw new AssertionError("no " + topic + " event within 20s");
    }

    /** Pids of shims started for this fixture's daemon (its address is on their command line). */
    List<ProcessHandle> shims(String id) {
        return ProcessHandle.allProcesses().filter(p -> p.info().commandLine()
                .map(c -> c.startsWith(SHIM) && c.contains(daemon.address()) && (id == null || c.contains(" -id " + id + " ")))
                .orElse(false)).toList();
    }

    static String run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("timed out: " + String.join(" ", cmd));
        }
        if (p.exitValue() != 0) throw new AssertionError(String.join(" ", cmd) + " failed: " + out);
        return out;
    }

    private static void quietly(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!p.waitFor(20, TimeUnit.SECONDS)) p.destroyForcibly();
        } catch (IOException | InterruptedException ignored) {
            // best effort
        }
    }

    @Override
    public void close() {
        for (String id : ids) quietly("runc", "--root", "/run/containerd/runc/" + ns, "delete", "--force", id);
        for (ProcessHandle shim : shims(null)) {
            shim.destroyForcibly();
            shim.onExit().orTimeout(10, TimeUnit.SECONDS).exceptionally(t -> null).join();
        }
        for (Path s : shimSockets) {
            try {
                Files.deleteIfExists(s);
            } catch (IOException ignored) {
                // best effort
            }
        }
        quietly("rmdir", "/run/containerd/runc/" + ns);
        DaemonProcess.Cleanup.unmountUnder(daemon.state());
        DaemonProcess.Cleanup.unmountUnder(dir);
        DaemonProcess.Cleanup.deleteTree(dir);
    }
}
