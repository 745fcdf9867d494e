package io.jcontainerd.it;

import static io.jcontainerd.it.TaskFixture.next;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.jcontainerd.api.events.TaskCreate;
import io.jcontainerd.api.events.TaskExit;
import io.jcontainerd.api.events.TaskStart;
import io.jcontainerd.api.services.events.v1.Envelope;
import io.jcontainerd.api.services.tasks.v1.CheckpointTaskRequest;
import io.jcontainerd.api.services.tasks.v1.CloseIORequest;
import io.jcontainerd.api.services.tasks.v1.ResizePtyRequest;
import io.jcontainerd.api.services.tasks.v1.UpdateTaskRequest;
import io.jcontainerd.api.services.tasks.v1.DeleteProcessRequest;
import io.jcontainerd.api.services.tasks.v1.DeleteTaskRequest;
import io.jcontainerd.api.services.tasks.v1.ExecProcessRequest;
import io.jcontainerd.api.services.tasks.v1.GetRequest;
import io.jcontainerd.api.services.tasks.v1.KillRequest;
import io.jcontainerd.api.services.tasks.v1.ListPidsRequest;
import io.jcontainerd.api.services.tasks.v1.ListTasksRequest;
import io.jcontainerd.api.services.tasks.v1.MetricsRequest;
import io.jcontainerd.api.services.tasks.v1.PauseTaskRequest;
import io.jcontainerd.api.services.tasks.v1.ResumeTaskRequest;
import io.jcontainerd.api.services.tasks.v1.StartRequest;
import io.jcontainerd.api.services.tasks.v1.WaitRequest;
import io.jcontainerd.api.services.tasks.v1.WaitResponse;
import io.jcontainerd.api.v1.types.ProcessInfo;
import io.jcontainerd.testing.Ctr;
import io.jcontainerd.testing.DaemonProcess;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.extension.AfterTestExecutionCallback;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Runtime v2 end to end: our daemon drives Debian's containerd-shim-runc-v2 and real runc, through the
 * Tasks gRPC service and the real {@code ctr}; containers are created over gRPC with a busybox rootfs
 * directory bind-mounted as the task's rootfs (no images needed).
 */
@EnabledIf("io.jcontainerd.it.TaskFixture#available")
@Timeout(180)
class TasksAcceptanceTest {
    static final String NS = "jcrt";

    DaemonProcess daemon;
    TaskFixture fx;

    /** A failed test shows the daemon's log (shim logs included) before the fixture deletes it. */
    @RegisterExtension
    final AfterTestExecutionCallback showLogOnFailure = ctx -> {
        if (ctx.getExecutionException().isPresent() && daemon != null) {
            System.out.println("--- daemon log of " + ctx.getDisplayName() + " ---\n" + daemon.logText());
        }
    };

    @BeforeEach
    void start() throws Exception {
        daemon = DaemonProcess.start();
        fx = new TaskFixture(daemon, NS);
    }

    @AfterEach
    void stop() {
        try {
            if (fx != null) fx.close();
        } finally {
            if (daemon != null) daemon.close();
        }
    }

    static Status.Code codeOf(Runnable r) {
        try {
            r.run();
            return Status.Code.OK;
        } catch (StatusRuntimeException e) {
            return e.getStatus().getCode();
        }
    }

    private Ctr.Result ctr(String... args) {
        return Ctr.runIn(daemon.address(), NS, args);
    }

    @Test
    void createStartWaitCapturesStdioAndExitCode() throws Exception {
        var events = fx.subscribe();
        fx.container("t1", "sh", "-c", "echo hello; echo oops >&2; exit 3");
        var out = fx.fifo("t1-out");
        var err = fx.fifo("t1-err");
        int pid = fx.createTask(fx.createRequest("t1").setStdout(out.path().toString()).setStderr(err.path().toString()).build());
        assertThat(pid).isPositive();
        var created = fx.tasks().get(GetRequest.newBuilder().setContainerId("t1").build()).getProcess();
        assertThat(created.getStatus().name()).isEqualTo("CREATED");
        assertThat(created.getPid()).isEqualTo(pid);
        assertThat(created.getStdout()).isEqualTo(out.path().toString());
        assertThat(TaskCreate.parseFrom(next(events, "/tasks/create").getEvent().getValue()).getPid()).isEqualTo(pid);
        assertThat(Files.readString(fx.bundle("t1").resolve("config.json"))).contains("exit 3");
        assertThat(Files.readString(fx.bundle("t1").resolve("shim-binary-path"))).isEqualTo(TaskFixture.SHIM);

        assertThat(codeOf(() -> fx.tasks().create(fx.createRequest("t1").build()))).isEqualTo(Status.Code.ALREADY_EXISTS);

        assertThat(fx.tasks().start(StartRequest.newBuilder().setContainerId("t1").build()).getPid()).isEqualTo(pid);
        assertThat(TaskStart.parseFrom(next(events, "/tasks/start").getEvent().getValue()).getContainerId()).isEqualTo("t1");
        WaitResponse w = fx.tasks().withDeadlineAfter(30, TimeUnit.SECONDS).wait(WaitRequest.newBuilder().setContainerId("t1").build());
        assertThat(w.getExitStatus()).isEqualTo(3);
        assertThat(w.getExitedAt().getSeconds()).isPositive();
        assertThat(out.content().get(10, TimeUnit.SECONDS)).isEqualTo("hello\n");
        assertThat(err.content().get(10, TimeUnit.SECONDS)).isEqualTo("oops\n");
        TaskExit exit = TaskExit.parseFrom(next(events, "/tasks/exit").getEvent().getValue());
        assertThat(exit.getExitStatus()).isEqualTo(3);
        assertThat(exit.getPid()).isEqualTo(pid);
        var stopped = fx.tasks().get(GetRequest.newBuilder().setContainerId("t1").build()).getProcess();
        assertThat(stopped.getStatus().name()).isEqualTo("STOPPED");
        assertThat(stopped.getExitStatus()).isEqualTo(3);

        var deleted = fx.tasks().delete(DeleteTaskRequest.newBuilder().setContainerId("t1").build());
        assertThat(deleted.getExitStatus()).isEqualTo(3);
        assertThat(deleted.getPid()).isEqualTo(pid);
        next(events, "/tasks/delete");
        assertThat(fx.bundle("t1")).doesNotExist();
        assertThat(daemon.root().resolve("io.containerd.runtime.v2.task").resolve(NS).resolve("t1")).doesNotExist();
        assertThatThrownBy(() -> fx.tasks().get(GetRequest.newBuilder().setContainerId("t1").build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
                    assertThat(e.getStatus().getDescription()).isEqualTo("task t1 not found");
                });
        assertThat(codeOf(() -> fx.tasks().get(GetRequest.newBuilder().setContainerId("nope").build()))).isEqualTo(Status.Code.NOT_FOUND);
        // the shim went away with its task
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!fx.shims("t1").isEmpty() && System.nanoTime() < deadline) Thread.sleep(50);
        assertThat(fx.shims("t1")).isEmpty();
    }

    @Test
    void execKillPauseResumePidsMetrics() throws Exception {
        var events = fx.subscribe();
        fx.container("t2", "sleep", "1000");
        int pid = fx.createTask(fx.createRequest("t2").build());
        fx.tasks().start(StartRequest.newBuilder().setContainerId("t2").build());

        assertThat(fx.tasks().listPids(ListPidsRequest.newBuilder().setContainerId("t2").build()).getProcessesList())
                .extracting(ProcessInfo::getPid).contains(pid);
        assertThat(fx.tasks().list(ListTasksRequest.getDefaultInstance()).getTasksList())
                .anySatisfy(p -> {
                    assertThat(p.getId()).isEqualTo("t2");
                    assertThat(p.getStatus().name()).isEqualTo("RUNNING");
                });

        // exec: the process spec is the container's with other args
        String procSpec = "{\"args\":[\"sh\",\"-c\",\"echo from-exec; exit 5\"],\"cwd\":\"/\",\"env\":[\"PATH=/bin\"],"
                + "\"user\":{\"uid\":0,\"gid\":0}}";
        var out = fx.fifo("e1-out");
        var err = fx.fifo("e1-err"); // the runc shim wants both or neither
        assertThat(codeOf(() -> fx.tasks().exec(ExecProcessRequest.newBuilder().setContainerId("t2").build())))
                .isEqualTo(Status.Code.INVALID_ARGUMENT);
        fx.tasks().exec(ExecProcessRequest.newBuilder().setContainerId("t2").setExecId("e1").setStdout(out.path().toString())
                .setStderr(err.path().toString())
                .setSpec(Any.newBuilder().setTypeUrl("types.containerd.io/opencontainers/runtime-spec/1/Process")
                        .setValue(ByteString.copyFrom(procSpec, StandardCharsets.UTF_8))).build());
        next(events, "/tasks/exec-added");
        int execPid = fx.tasks().start(StartRequest.newBuilder().setContainerId("t2").setExecId("e1").build()).getPid();
        assertThat(execPid).isPositive().isNotEqualTo(pid);
        var w = fx.tasks().withDeadlineAfter(30, TimeUnit.SECONDS).wait(WaitRequest.newBuilder().setContainerId("t2").setExecId("e1").build());
        assertThat(w.getExitStatus()).isEqualTo(5);
        assertThat(out.content().get(10, TimeUnit.SECONDS)).isEqualTo("from-exec\n");
        var e1 = fx.tasks().get(GetRequest.newBuilder().setContainerId("t2").setExecId("e1").build()).getProcess();
        assertThat(e1.getId()).isEqualTo("e1");
        assertThat(e1.getStatus().name()).isEqualTo("STOPPED");
        var del = fx.tasks().deleteProcess(DeleteProcessRequest.newBuilder().setContainerId("t2").setExecId("e1").build());
        assertThat(del.getId()).isEqualTo("e1");
        assertThat(del.getExitStatus()).isEqualTo(5);
        assertThat(codeOf(() -> fx.tasks().get(GetRequest.newBuilder().setContainerId("t2").setExecId("e1").build())))
                .isEqualTo(Status.Code.NOT_FOUND);

        fx.tasks().pause(PauseTaskRequest.newBuilder().setContainerId("t2").build());
        next(events, "/tasks/paused");
        assertThat(fx.tasks().get(GetRequest.newBuilder().setContainerId("t2").build()).getProcess().getStatus().name()).isEqualTo("PAUSED");
        fx.tasks().resume(ResumeTaskRequest.newBuilder().setContainerId("t2").build());
        next(events, "/tasks/resumed");
        assertThat(fx.tasks().get(GetRequest.newBuilder().setContainerId("t2").build()).getProcess().getStatus().name()).isEqualTo("RUNNING");

        var metrics = fx.tasks().metrics(MetricsRequest.newBuilder().addFilters("id==t2").build()).getMetricsList();
        assertThat(metrics).hasSize(1);
        assertThat(metrics.getFirst().getId()).isEqualTo("t2");
        assertThat(metrics.getFirst().getData().getTypeUrl()).contains("io.containerd.cgroups");
        assertThat(fx.tasks().metrics(MetricsRequest.newBuilder().addFilters("id==other").build()).getMetricsCount()).isZero();

        // containerd's runc checkpoint options without an image path would go to the content store
        assertThat(codeOf(() -> fx.tasks().checkpoint(CheckpointTaskRequest.newBuilder().setContainerId("t2").build())))
                .isIn(Status.Code.UNIMPLEMENTED, Status.Code.FAILED_PRECONDITION);

        // resources update (runc update), stdin close and pty resize pass through to the shim
        fx.tasks().update(UpdateTaskRequest.newBuilder().setContainerId("t2").setResources(Any.newBuilder()
                .setTypeUrl("types.containerd.io/opencontainers/runtime-spec/1/LinuxResources")
                .setValue(ByteString.copyFromUtf8("{\"pids\":{\"limit\":100}}"))).build());
        fx.tasks().closeIO(CloseIORequest.newBuilder().setContainerId("t2").setStdin(true).build());
        fx.tasks().resizePty(ResizePtyRequest.newBuilder().setContainerId("t2").setWidth(80).setHeight(24).build());

        fx.tasks().kill(KillRequest.newBuilder().setContainerId("t2").setSignal(9).build());
        var exit = fx.tasks().withDeadlineAfter(30, TimeUnit.SECONDS).wait(WaitRequest.newBuilder().setContainerId("t2").build());
        assertThat(exit.getExitStatus()).isEqualTo(137);
        fx.tasks().delete(DeleteTaskRequest.newBuilder().setContainerId("t2").build());
        assertThat(fx.tasks().list(ListTasksRequest.getDefaultInstance()).getTasksCount()).isZero();
    }

    @Test
    void ctrTasksCommands() throws Exception {
        fx.container("t3", "sleep", "1000");
        int pid = fx.createTask(fx.createRequest("t3").build());
        fx.tasks().start(StartRequest.newBuilder().setContainerId("t3").build());

        String ls = ctr("tasks", "ls").assertOk().stdout();
        assertThat(ls).containsPattern("t3\\s+" + pid + "\\s+RUNNING");
        assertThat(ctr("tasks", "ps", "t3").assertOk().stdout()).contains(String.valueOf(pid));

        Ctr.Result exec = ctr("tasks", "exec", "--exec-id", "e1", "t3", "sh", "-c", "echo hi-from-ctr");
        assertThat(exec.exitCode()).as(exec.stderr()).isZero();
        assertThat(exec.stdout()).isEqualTo("hi-from-ctr\n");
        assertThat(ctr("tasks", "exec", "--exec-id", "e2", "t3", "sh", "-c", "exit 4").exitCode()).isEqualTo(4);

        ctr("tasks", "pause", "t3").assertOk();
        assertThat(ctr("tasks", "ls").stdout()).containsPattern("t3\\s+" + pid + "\\s+PAUSED");
        ctr("tasks", "resume", "t3").assertOk();
        assertThat(ctr("tasks", "metrics", "t3").assertOk().stdout()).contains("t3");

        assertThat(ctr("tasks", "rm", "t3").exitCode()).isNotZero(); // still running
        ctr("tasks", "kill", "-s", "SIGKILL", "t3").assertOk();
        awaitStatus("t3", "STOPPED");
        ctr("tasks", "rm", "t3").assertOk();
        assertThat(ctr("tasks", "ls").assertOk().stdout()).doesNotContain("t3");
    }

    private void awaitStatus(String id, String status) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        String ls = "";
        while (System.nanoTime() < deadline) {
            ls = ctr("tasks", "ls").stdout();
            if (ls.matches("(?s).*" + id + "\\s+\\d+\\s+" + status + ".*")) return;
            Thread.sleep(50);
        }
        throw new AssertionError(id + " not " + status + ":\n" + ls);
    }

    @Test
    void daemonRestartReconnectsToRunningTasks() throws Exception {
        fx.container("t4", "sleep", "1000");
        int pid = fx.createTask(fx.createRequest("t4").build());
        fx.tasks().start(StartRequest.newBuilder().setContainerId("t4").build());
        long shims = fx.shims("t4").size();
        assertThat(shims).isEqualTo(1);

        daemon.restart();

        assertThat(ctr("tasks", "ls").assertOk().stdout()).containsPattern("t4\\s+" + pid + "\\s+RUNNING");
        assertThat(fx.shims("t4")).hasSize(1);
        var events = fx.subscribe();
        // the shim's events reach the new daemon (sleep is pid 1 in the container: only SIGKILL ends it)
        ctr("tasks", "kill", "-s", "SIGKILL", "t4").assertOk();
        assertThat(TaskExit.parseFrom(next(events, "/tasks/exit").getEvent().getValue()).getExitStatus()).isEqualTo(137);
        var w = fx.tasks().withDeadlineAfter(30, TimeUnit.SECONDS).wait(WaitRequest.newBuilder().setContainerId("t4").build());
        assertThat(w.getExitStatus()).isEqualTo(137);
        ctr("tasks", "rm", "t4").assertOk();
        assertThat(fx.bundle("t4")).doesNotExist();
    }

    @Test
    void killedShimIsCleanedUpAndItsExitPublished() throws Exception {
        var events = fx.subscribe();
        fx.container("t5", "sleep", "1000");
        int pid = fx.createTask(fx.createRequest("t5").build());
        fx.tasks().start(StartRequest.newBuilder().setContainerId("t5").build());
        var shim = fx.shims("t5");
        assertThat(shim).hasSize(1);

        shim.getFirst().destroyForcibly();
        Envelope e = next(events, "/tasks/exit");
        TaskExit exit = TaskExit.parseFrom(e.getEvent().getValue());
        assertThat(exit.getContainerId()).isEqualTo("t5");
        assertThat(exit.getPid()).isEqualTo(pid);
        assertThat(exit.getExitStatus()).isEqualTo(137); // shim delete killed the container
        next(events, "/tasks/delete");
        assertThat(codeOf(() -> fx.tasks().get(GetRequest.newBuilder().setContainerId("t5").build()))).isEqualTo(Status.Code.NOT_FOUND);
        assertThat(fx.bundle("t5")).doesNotExist();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false) && System.nanoTime() < deadline) Thread.sleep(20);
        assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
        assertThat(TaskFixture.run("runc", "--root", "/run/containerd/runc/" + NS, "list", "-q")).doesNotContain("t5");
        // the container can run again
        fx.createTask(fx.createRequest("t5").build());
        fx.tasks().delete(DeleteTaskRequest.newBuilder().setContainerId("t5").build());
    }

    @Test
    void publishSubcommandForwardsAnEvent() throws Exception {
        var events = fx.subscribe();
        Path publish = daemon.root().resolve("io.containerd.runtime.v2.task").resolve(".jcontainerd-publish");
        assertThat(publish).isExecutable();
        Process p = new ProcessBuilder(publish.toString(), "--address", daemon.address(), "publish", "--topic", "/tasks/oom",
                "--namespace", NS).redirectErrorStream(true).start();
        Any event = Any.newBuilder().setTypeUrl("containerd.events.TaskOOM")
                .setValue(io.jcontainerd.api.events.TaskOOM.newBuilder().setContainerId("x1").build().toByteString()).build();
        try (var in = p.getOutputStream()) {
            event.writeTo(in);
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        Envelope e = next(events, "/tasks/oom");
        assertThat(e.getNamespace()).isEqualTo(NS);
        assertThat(io.jcontainerd.api.events.TaskOOM.parseFrom(e.getEvent().getValue()).getContainerId()).isEqualTo("x1");

        Process bad = new ProcessBuilder(publish.toString(), "--address", daemon.address(), "publish", "--namespace", NS)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).redirectErrorStream(true).start();
        String badOut = new String(bad.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(bad.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(bad.exitValue()).isNotZero();
        assertThat(badOut).contains("topic required");
    }
}
