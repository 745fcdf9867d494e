package io.jcontainerd.shim;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.Empty;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import io.jcontainerd.api.services.events.ttrpc.v1.ForwardRequest;
import io.jcontainerd.api.task.v2.ConnectRequest;
import io.jcontainerd.api.task.v2.ConnectResponse;
import io.jcontainerd.api.task.v2.CreateTaskRequest;
import io.jcontainerd.api.task.v2.CreateTaskResponse;
import io.jcontainerd.api.task.v2.DeleteRequest;
import io.jcontainerd.api.task.v2.DeleteResponse;
import io.jcontainerd.api.task.v2.ExecProcessRequest;
import io.jcontainerd.api.task.v2.KillRequest;
import io.jcontainerd.api.task.v2.PauseRequest;
import io.jcontainerd.api.task.v2.PidsRequest;
import io.jcontainerd.api.task.v2.PidsResponse;
import io.jcontainerd.api.task.v2.ResumeRequest;
import io.jcontainerd.api.task.v2.ShutdownRequest;
import io.jcontainerd.api.task.v2.StartRequest;
import io.jcontainerd.api.task.v2.StartResponse;
import io.jcontainerd.api.task.v2.StateRequest;
import io.jcontainerd.api.task.v2.StateResponse;
import io.jcontainerd.api.task.v2.StatsRequest;
import io.jcontainerd.api.task.v2.StatsResponse;
import io.jcontainerd.api.task.v2.WaitRequest;
import io.jcontainerd.api.task.v2.WaitResponse;
import io.jcontainerd.api.types.Mount;
import io.jcontainerd.shim.proc.Processes;
import io.jcontainerd.shim.task.TaskService;
import io.jcontainerd.shim.util.Json;
import io.jcontainerd.ttrpc.Method;
import io.jcontainerd.ttrpc.RequestContext;
import io.jcontainerd.ttrpc.TtrpcClient;
import io.jcontainerd.ttrpc.TtrpcServer;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The {@code train} action: one run through what a shim does (start's socket naming, the Task service
 * over ttrpc with events forwarded, runc create/start/exec/pause/resume/kill/delete of a busybox
 * container with FIFO stdio) inside one JVM, so that the JDK's AOT cache recorded from it
 * ({@code -XX:AOTCacheOutput}, see scripts/shim-aot-train.sh) holds the classes every shim needs.
 */
final class Training {
    private static final String NS = "jcshim-train";
    private static final String TASK = TaskService.SERVICE;

    private Training() {}

    static void run(Flags f) throws Exception {
        // what start and delete run in their own short-lived JVMs
        ShimStart.socketPath("/run/train.sock", NS, "group");
        ShimStart.selfCommand();
        Process trueProcess = new ProcessBuilder("/bin/true").redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        trueProcess.waitFor();
        io.jcontainerd.api.task.v2.DeleteResponse.newBuilder().setPid(1).setExitStatus(137)
                .setExitedAt(io.jcontainerd.protobuf.Timestamps.of(java.time.Instant.now())).build().toByteArray();
        io.jcontainerd.mount.MountInfo.isMountPoint(Path.of("/"));
        Path dir = Files.createTempDirectory("jcshim-train");
        try {
            TtrpcServer events = new TtrpcServer();
            events.register("containerd.services.events.ttrpc.v1.Events", Map.of("Forward",
                    Method.unary(ForwardRequest.parser(), (ctx, req) -> Empty.getDefaultInstance())));
            events.start(dir.resolve("events.sock"));
            ShimServer shim = ShimServer.start(Flags.parse(List.of("-namespace", NS, "-id", "train")), dir.resolve("shim.sock"),
                    dir.resolve("events.sock").toString());
            try (TtrpcClient client = TtrpcClient.connect(dir.resolve("shim.sock"))) {
                call(client, "Connect", ConnectRequest.newBuilder().setId("x").build(), ConnectResponse.parser());
                if (Files.isExecutable(Path.of("/bin/busybox")) && onPath("runc")) containers(client, dir);
                call(client, "Shutdown", ShutdownRequest.newBuilder().setId("x").build(), Empty.parser());
            }
            shim.awaitShutdown();
            events.close();
            try {
                Files.deleteIfExists(Path.of("/run/containerd/runc", NS));
            } catch (java.nio.file.DirectoryNotEmptyException inUse) {
                // left as it is
            }
        } finally {
            try (var walk = Files.walk(dir)) {
                for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
            }
        }
    }

    private static void containers(TtrpcClient client, Path dir) throws Exception {
        Path image = Files.createDirectories(dir.resolve("image/bin"));
        Files.copy(Path.of("/bin/busybox"), image.resolve("busybox"));
        for (String a : List.of("sh", "echo", "sleep")) Files.createSymbolicLink(image.resolve(a), Path.of("busybox"));
        Mount rootfs = Mount.newBuilder().setType("bind").setSource(dir.resolve("image").toString())
                .addOptions("rbind").addOptions("rw").build();

        // a container that prints and exits
        Path b1 = bundle(dir, "train1", List.of("sh", "-c", "echo trained"));
        Path out = fifo(dir, "out1");
        Path err = fifo(dir, "err1");
        CompletableFuture<String> text = drain(out);
        drain(err);
        call(client, "Create", CreateTaskRequest.newBuilder().setId("train1").setBundle(b1.toString()).addRootfs(rootfs)
                .setStdout(out.toString()).setStderr(err.toString()).build(), CreateTaskResponse.parser());
        call(client, "State", StateRequest.newBuilder().setId("train1").build(), StateResponse.parser());
        call(client, "Start", StartRequest.newBuilder().setId("train1").build(), StartResponse.parser());
        call(client, "Wait", WaitRequest.newBuilder().setId("train1").build(), WaitResponse.parser());
        call(client, "Delete", DeleteRequest.newBuilder().setId("train1").build(), DeleteResponse.parser());
        text.join();

        // a container that stays, with an exec, pause/resume, pids and stats
        Path b2 = bundle(dir, "train2", List.of("sleep", "60"));
        call(client, "Create", CreateTaskRequest.newBuilder().setId("train2").setBundle(b2.toString()).addRootfs(rootfs).build(),
                CreateTaskResponse.parser());
        try {
            call(client, "Start", StartRequest.newBuilder().setId("train2").build(), StartResponse.parser());
            String spec = "{\"user\":{\"uid\":0,\"gid\":0},\"args\":[\"echo\",\"x\"],\"env\":[\"PATH=/bin\"],\"cwd\":\"/\"}";
            call(client, "Exec", ExecProcessRequest.newBuilder().setId("train2").setExecId("e").setSpec(Any.newBuilder()
                    .setTypeUrl("types.containerd.io/opencontainers/runtime-spec/1/Process")
                    .setValue(ByteString.copyFromUtf8(spec))).build(), Empty.parser());
            call(client, "Start", StartRequest.newBuilder().setId("train2").setExecId("e").build(), StartResponse.parser());
            call(client, "Wait", WaitRequest.newBuilder().setId("train2").setExecId("e").build(), WaitResponse.parser());
            call(client, "Delete", DeleteRequest.newBuilder().setId("train2").setExecId("e").build(), DeleteResponse.parser());
            call(client, "Pids", PidsRequest.newBuilder().setId("train2").build(), PidsResponse.parser());
            call(client, "Pause", PauseRequest.newBuilder().setId("train2").build(), Empty.parser());
            call(client, "Resume", ResumeRequest.newBuilder().setId("train2").build(), Empty.parser());
            call(client, "Stats", StatsRequest.newBuilder().setId("train2").build(), StatsResponse.parser());
        } finally {
            call(client, "Kill", KillRequest.newBuilder().setId("train2").setSignal(9).build(), Empty.parser());
            call(client, "Wait", WaitRequest.newBuilder().setId("train2").build(), WaitResponse.parser());
            call(client, "Delete", DeleteRequest.newBuilder().setId("train2").build(), DeleteResponse.parser());
        }
    }

    private static <T extends Message> T call(TtrpcClient c, String method, Message req, Parser<T> parser) {
        return c.call(TASK, method, req, parser, Map.of(RequestContext.NAMESPACE_KEY, NS), Duration.ofSeconds(30));
    }

    @SuppressWarnings("unchecked")
    private static Path bundle(Path dir, String id, List<String> args) throws Exception {
        Path b = Files.createDirectories(dir.resolve(id));
        exec(List.of("runc", "spec", "--bundle", b.toString()));
        Map<String, Object> spec = Json.parseObject(Files.readString(b.resolve("config.json")));
        Map<String, Object> process = (Map<String, Object>) spec.get("process");
        process.put("terminal", false);
        process.put("args", args);
        if (spec.get("root") instanceof Map<?, ?> root) ((Map<String, Object>) root).put("readonly", false);
        Files.writeString(b.resolve("config.json"), Json.write(spec));
        return b;
    }

    private static Path fifo(Path dir, String name) throws Exception {
        Path p = dir.resolve(name);
        exec(List.of("mkfifo", p.toString()));
        return p;
    }

    private static CompletableFuture<String> drain(Path fifo) {
        CompletableFuture<String> f = new CompletableFuture<>();
        Thread.ofPlatform().daemon().start(() -> {
            try (InputStream in = new FileInputStream(fifo.toFile())) {
                f.complete(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                f.completeExceptionally(e);
            }
        });
        return f;
    }

    private static void exec(List<String> argv) throws Exception {
        int status = Processes.get().spawn(new Processes.Command(argv, null, null, null, false)).exit().get().status();
        if (status != 0) throw new IOException(argv + " exited with " + status);
    }

    private static boolean onPath(String exe) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, exe))) return true;
        }
        return false;
    }
}
