package io.jcontainerd.shim;

import static io.jcontainerd.shim.ShimFixture.NS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.Empty;
import io.jcontainerd.api.cgroups.v1.Metrics;
import io.jcontainerd.api.events.TaskCreate;
import io.jcontainerd.api.events.TaskExit;
import io.jcontainerd.api.runc.v1.Options;
import io.jcontainerd.api.runc.v1.ProcessDetails;
import io.jcontainerd.api.task.v2.CheckpointTaskRequest;
import io.jcontainerd.api.task.v2.CloseIORequest;
import io.jcontainerd.api.task.v2.CreateTaskRequest;
import io.jcontainerd.api.task.v2.CreateTaskResponse;
import io.jcontainerd.api.task.v2.DeleteRequest;
import io.jcontainerd.api.task.v2.DeleteResponse;
import io.jcontainerd.api.task.v2.ExecProcessRequest;
import io.jcontainerd.api.task.v2.KillRequest;
import io.jcontainerd.api.task.v2.PauseRequest;
import io.jcontainerd.api.task.v2.PidsRequest;
import io.jcontainerd.api.task.v2.PidsResponse;
import io.jcontainerd.api.task.v2.ResizePtyRequest;
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
import io.jcontainerd.api.v1.types.Status;
import io.jcontainerd.errdefs.ContainerdException;
import io.jcontainerd.errdefs.ErrorKind;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The shim protocol end to end without a daemon, against our Java shim and, as the reference, Debian's
 * containerd-shim-runc-v2: every test runs against both, proving drop-in compatibility. Needs root, runc
 * and busybox.
 */
@EnabledIf("supported")
@Timeout(180)
class ShimTaskTest {

    static boolean supported() {
        return "root".equals(System.getProperty("user.name")) && Files.isExecutable(Path.of("/usr/sbin/runc"))
                && Files.isExecutable(Path.of("/bin/busybox"));
    }

    /** Our shim, launched with this test JVM's class path, and Debian's shim where installed. */
    static Stream<Path> shims() throws Exception {
        Path ours = JavaShim.launcher();
        return Files.isExecutable(ShimFixture.DEBIAN_SHIM) ? Stream.of(ours, ShimFixture.DEBIAN_SHIM) : Stream.of(ours);
    }

    static String id() {
        return "t" + Long.toHexString(System.nanoTime());
    }

    private static CreateTaskRequest.Builder create(ShimFixture.Bundle b, ShimFixture f) {
        return CreateTaskRequest.newBuilder().setId(b.id).setBundle(b.path.toString())
                .addRootfs(Mount.newBuilder().setType("bind").setSource(f.image.toString()).addOptions("rbind").addOptions("rw"));
    }

    @ParameterizedTest
    @MethodSource("shims")
    void runToExitWithOutputAndOrderedEvents(Path shim) throws Exception {
        try (ShimFixture f = new ShimFixture(shim)) {
            var b = f.new Bundle(id(), Map.of(), "sh", "-c", "echo out; echo err >&2; exit 3");
            b.start();
            // the socket is named as containerd's shim names it: sha256 of <address>/<namespace>/<id>
            assertThat(Path.of(b.address).getFileName())
                    .isEqualTo(ShimStart.socketPath(f.daemonAddress.toString(), NS, b.id).getFileName());
            var out = f.new Output("out");
            var err = f.new Output("err");
            CreateTaskResponse c = b.call("Create", create(b, f).setStdout(out.path.toString()).setStderr(err.path.toString()).build(),
                    CreateTaskResponse.parser());
            b.created = true;
            assertThat(c.getPid()).isPositive();
            assertThat(Files.exists(b.rootfs().resolve("bin/busybox"))).as("rootfs mounted").isTrue();
            StateResponse st = b.call("State", StateRequest.newBuilder().setId(b.id).build(), StateResponse.parser());
            assertThat(st.getStatus()).isEqualTo(Status.CREATED);
            assertThat(st.getPid()).isEqualTo(c.getPid());
            assertThat(st.getBundle()).isEqualTo(b.path.toString());
            assertThat(st.getStdout()).isEqualTo(out.path.toString());

            StartResponse s = b.call("Start", StartRequest.newBuilder().setId(b.id).build(), StartResponse.parser());
            assertThat(s.getPid()).isEqualTo(c.getPid());
            WaitResponse w = b.call("Wait", WaitRequest.newBuilder().setId(b.id).build(), WaitResponse.parser());
            assertThat(w.getExitStatus()).isEqualTo(3);
            assertThat(w.getExitedAt().getSeconds()).isPositive();
            assertThat(out.text()).isEqualTo("out\n");
            assertThat(err.text()).isEqualTo("err\n");
            st = b.call("State", StateRequest.newBuilder().setId(b.id).build(), StateResponse.parser());
            assertThat(st.getStatus()).isEqualTo(Status.STOPPED);
            assertThat(st.getExitStatus()).isEqualTo(3);

            DeleteResponse d = b.call("Delete", DeleteRequest.newBuilder().setId(b.id).build(), DeleteResponse.parser());
            assertThat(d.getPid()).isEqualTo(c.getPid());
            assertThat(d.getExitStatus()).isEqualTo(3);
            assertThat(Files.exists(b.rootfs().resolve("bin"))).as("rootfs unmounted").isFalse();

            List<String> topics = f.topicsUntil("/tasks/delete");
            assertThat(topics).containsExactly("/tasks/create", "/tasks/start", "/tasks/exit", "/tasks/delete");
            assertThatThrownBy(() -> b.call("State", StateRequest.newBuilder().setId(b.id).build(), StateResponse.parser()))
                    .isInstanceOfSatisfying(ContainerdException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.NOT_FOUND));
            shutdown(b);
        }
    }

    @ParameterizedTest
    @MethodSource("shims")
    void eventsCarryNamespaceAndPayloads(Path shim) throws Exception {
        try (ShimFixture f = new ShimFixture(shim)) {
            var b = f.new Bundle(id(), Map.of(), "true");
            b.start();
            CreateTaskResponse c = b.call("Create", create(b, f).build(), CreateTaskResponse.parser());
            b.call("Start", StartRequest.newBuilder().setId(b.id).build(), StartResponse.parser());
            b.call("Wait", WaitRequest.newBuilder().setId(b.id).build(), WaitResponse.parser());
            ShimFixture.Forwarded create = f.nextEvent();
            assertThat(create.namespace()).contains(NS);
            assertThat(create.envelope().getNamespace()).isEqualTo(NS);
            assertThat(create.envelope().getEvent().getTypeUrl()).isEqualTo("containerd.events.TaskCreate");
            TaskCreate tc = TaskCreate.parseFrom(create.envelope().getEvent().getValue());
            assertThat(tc.getContainerId()).isEqualTo(b.id);
            assertThat(tc.getBundle()).isEqualTo(b.path.toString());
            assertThat(tc.getPid()).isEqualTo(c.getPid());
            assertThat(tc.getRootfsCount()).isEqualTo(1);
            assertThat(f.nextEvent().envelope().getTopic()).isEqualTo("/tasks/start");
            ShimFixture.Forwarded exit = f.nextEvent();
            assertThat(exit.envelope().getTopic()).isEqualTo("/tasks/exit");
            TaskExit te = TaskExit.parseFrom(exit.envelope().getEvent().getValue());
            assertThat(te.getContainerId()).isEqualTo(b.id);
            assertThat(te.getId()).isEqualTo(b.id);
            assertThat(te.getPid()).isEqualTo(c.getPid());
            assertThat(te.getExitStatus()).isZero();
            b.call("Delete", DeleteRequest.newBuilder().setId(b.id).build(), DeleteResponse.parser());
            shutdown(b);
        }
    }

    @ParameterizedTest
    @MethodSource("shims")
    void killExecPidsPauseResumeStats(Path shim) throws Exception {
        try (ShimFixture f = new ShimFixture(shim)) {
            var b = f.new Bundle(id(), Map.of(), "sleep", "1000");
            b.start();
            CreateTaskResponse c = b.call("Create", create(b, f).build(), CreateTaskResponse.parser());
            b.call("Start", StartRequest.newBuilder().setId(b.id).build(), StartResponse.parser());
            assertThat(b.call("State", StateRequest.newBuilder().setId(b.id).build(), StateResponse.parser()).getStatus())
                    .isEqualTo(Status.RUNNING);

            // an exec that prints, and one that stays
            var execOut = f.new Output("exec-out");
            var execErr = f.new Output("exec-err");
            b.call("Exec", ExecProcessRequest.newBuilder().setId(b.id).setExecId("e1").setStdout(execOut.path.toString())
                    .setStderr(execErr.path.toString())
                    .setSpec(processSpec("sh", "-c", "echo from-exec; exit 5")).build(), Empty.parser());
            assertThatThrownBy(() -> b.call("Exec", ExecProcessRequest.newBuilder().setId(b.id).setExecId("e1")
                    .setSpec(processSpec("true")).build(), Empty.parser()))
                    .isInstanceOfSatisfying(ContainerdException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.ALREADY_EXISTS));
            StartResponse es = b.call("Start", StartRequest.newBuilder().setId(b.id).setExecId("e1").build(), StartResponse.parser());
            assertThat(es.getPid()).isPositive();
            WaitResponse ew = b.call("Wait", WaitRequest.newBuilder().setId(b.id).setExecId("e1").build(), WaitResponse.parser());
            assertThat(ew.getExitStatus()).isEqualTo(5);
            assertThat(execOut.text()).isEqualTo("from-exec\n");
            StateResponse est = b.call("State", StateRequest.newBuilder().setId(b.id).setExecId("e1").build(), StateResponse.parser());
            assertThat(est.getStatus()).isEqualTo(Status.STOPPED);
            assertThat(est.getId()).isEqualTo("e1");
            b.call("Delete", DeleteRequest.newBuilder().setId(b.id).setExecId("e1").build(), DeleteResponse.parser());

            b.call("Exec", ExecProcessRequest.newBuilder().setId(b.id).setExecId("e2").setSpec(processSpec("sleep", "1000")).build(),
                    Empty.parser());
            int e2 = b.call("Start", StartRequest.newBuilder().setId(b.id).setExecId("e2").build(), StartResponse.parser()).getPid();
            PidsResponse pids = b.call("Pids", PidsRequest.newBuilder().setId(b.id).build(), PidsResponse.parser());
            assertThat(pids.getProcessesList()).extracting(p -> p.getPid()).contains(c.getPid(), e2);
            var e2info = pids.getProcessesList().stream().filter(p -> p.getPid() == e2).findFirst().orElseThrow();
            assertThat(e2info.getInfo().getTypeUrl()).isEqualTo("containerd.runc.v1.ProcessDetails");
            assertThat(ProcessDetails.parseFrom(e2info.getInfo().getValue()).getExecId()).isEqualTo("e2");

            b.call("Pause", PauseRequest.newBuilder().setId(b.id).build(), Empty.parser());
            assertThat(b.call("State", StateRequest.newBuilder().setId(b.id).build(), StateResponse.parser()).getStatus())
                    .isEqualTo(Status.PAUSED);
            assertThat(b.call("State", StateRequest.newBuilder().setId(b.id).setExecId("e2").build(), StateResponse.parser()).getStatus())
                    .isEqualTo(Status.PAUSED);
            b.call("Resume", ResumeRequest.newBuilder().setId(b.id).build(), Empty.parser());
            assertThat(b.call("State", StateRequest.newBuilder().setId(b.id).build(), StateResponse.parser()).getStatus())
                    .isEqualTo(Status.RUNNING);

            StatsResponse stats = b.call("Stats", StatsRequest.newBuilder().setId(b.id).build(), StatsResponse.parser());
            if (stats.getStats().getTypeUrl().equals("io.containerd.cgroups.v1.Metrics")) {
                Metrics m = Metrics.parseFrom(stats.getStats().getValue());
                assertThat(m.getPids().getCurrent()).isGreaterThanOrEqualTo(2);
                assertThat(m.getMemory().getUsage().getUsage()).isPositive();
            } else {
                assertThat(stats.getStats().getTypeUrl()).isEqualTo("io.containerd.cgroups.v2.Metrics");
            }

            b.call("Kill", KillRequest.newBuilder().setId(b.id).setSignal(9).build(), Empty.parser());
            WaitResponse w = b.call("Wait", WaitRequest.newBuilder().setId(b.id).build(), WaitResponse.parser());
            assertThat(w.getExitStatus()).isEqualTo(137);
            assertThatThrownBy(() -> b.call("Kill", KillRequest.newBuilder().setId(b.id).setSignal(9).build(), Empty.parser()))
                    .isInstanceOfSatisfying(ContainerdException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.NOT_FOUND));
            b.call("Wait", WaitRequest.newBuilder().setId(b.id).setExecId("e2").build(), WaitResponse.parser());
            b.call("Delete", DeleteRequest.newBuilder().setId(b.id).setExecId("e2").build(), DeleteResponse.parser());
            b.call("Delete", DeleteRequest.newBuilder().setId(b.id).build(), DeleteResponse.parser());

            List<String> topics = f.topicsUntil("/tasks/delete");
            assertThat(topics).startsWith("/tasks/create", "/tasks/start", "/tasks/exec-added", "/tasks/exec-started", "/tasks/exit",
                    "/tasks/exec-added", "/tasks/exec-started", "/tasks/paused", "/tasks/resumed");
            assertThat(topics.subList(9, topics.size())).containsExactlyInAnyOrder("/tasks/exit", "/tasks/exit", "/tasks/delete");
            assertThat(topics.getLast()).isEqualTo("/tasks/delete");
            shutdown(b);
        }
    }

    @ParameterizedTest
    @MethodSource("shims")
    void stdinAndCloseIo(Path shim) throws Exception {
        try (ShimFixture f = new ShimFixture(shim)) {
            var b = f.new Bundle(id(), Map.of(), "cat");
            b.start();
            var in = f.new Input("in");
            var out = f.new Output("out");
            var err = f.new Output("err");
            b.call("Create", create(b, f).setStdin(in.path.toString()).setStdout(out.path.toString()).setStderr(err.path.toString())
                    .build(), CreateTaskResponse.parser());
            b.call("Start", StartRequest.newBuilder().setId(b.id).build(), StartResponse.parser());
            in.write("hello through stdin\n");
            in.close();
            b.call("CloseIO", CloseIORequest.newBuilder().setId(b.id).setStdin(true).build(), Empty.parser());
            WaitResponse w = b.call("Wait", WaitRequest.newBuilder().setId(b.id).build(), WaitResponse.parser());
            assertThat(w.getExitStatus()).isZero();
            assertThat(out.text()).isEqualTo("hello through stdin\n");
            b.call("Delete", DeleteRequest.newBuilder().setId(b.id).build(), DeleteResponse.parser());
            shutdown(b);
        }
    }

    @ParameterizedTest
    @MethodSource("shims")
    void terminalWithPty(Path shim) throws Exception {
        try (ShimFixture f = new ShimFixture(shim)) {
            var b = f.new Bundle(id(), Map.of(), "sh");
            Files.writeString(b.path.resolve("config.json"),
                    Files.readString(b.path.resolve("config.json")).replace("\"terminal\": false", "\"terminal\": true"));
            b.start();
            var in = f.new Input("in");
            var out = f.new Output("out");
            b.call("Create", create(b, f).setTerminal(true).setStdin(in.path.toString()).setStdout(out.path.toString()).build(),
                    CreateTaskResponse.parser());
            b.call("Start", StartRequest.newBuilder().setId(b.id).build(), StartResponse.parser());
            b.call("ResizePty", ResizePtyRequest.newBuilder().setId(b.id).setWidth(123).setHeight(45).build(), Empty.parser());

            // an exec with its own terminal
            var execOut = f.new Output("exec-out");
            b.call("Exec", ExecProcessRequest.newBuilder().setId(b.id).setExecId("t1").setTerminal(true)
                    .setStdout(execOut.path.toString()).setSpec(processSpec("sh", "-c", "test -t 1 && echo exec-tty")).build(), Empty.parser());
            b.call("Start", StartRequest.newBuilder().setId(b.id).setExecId("t1").build(), StartResponse.parser());
            assertThat(b.call("Wait", WaitRequest.newBuilder().setId(b.id).setExecId("t1").build(), WaitResponse.parser())
                    .getExitStatus()).isZero();
            b.call("Delete", DeleteRequest.newBuilder().setId(b.id).setExecId("t1").build(), DeleteResponse.parser());
            assertThat(execOut.text()).isEqualTo("exec-tty\r\n");

            in.write("stty size; test -t 0 && echo is-a-tty; exit 7\n");
            WaitResponse w = b.call("Wait", WaitRequest.newBuilder().setId(b.id).build(), WaitResponse.parser());
            assertThat(w.getExitStatus()).isEqualTo(7);
            StateResponse st = b.call("State", StateRequest.newBuilder().setId(b.id).build(), StateResponse.parser());
            assertThat(st.getTerminal()).isTrue();
            in.close();
            b.call("CloseIO", CloseIORequest.newBuilder().setId(b.id).setStdin(true).build(), Empty.parser());
            b.call("Delete", DeleteRequest.newBuilder().setId(b.id).build(), DeleteResponse.parser());
            String text = out.text();
            assertThat(text).contains("45 123").contains("is-a-tty\r\n");
            shutdown(b);
        }
    }

    @ParameterizedTest
    @MethodSource("shims")
    void largeOutputOfAnExitingProcessArrivesComplete(Path shim) throws Exception {
        try (ShimFixture f = new ShimFixture(shim)) {
            var b = f.new Bundle(id(), Map.of(), "dd", "if=/dev/zero", "bs=65536", "count=320");
            b.start();
            var out = f.new Output("out");
            var err = f.new Output("err");
            b.call("Create", create(b, f).setStdout(out.path.toString()).setStderr(err.path.toString()).build(),
                    CreateTaskResponse.parser());
            b.call("Start", StartRequest.newBuilder().setId(b.id).build(), StartResponse.parser());
            assertThat(b.call("Wait", WaitRequest.newBuilder().setId(b.id).build(), WaitResponse.parser()).getExitStatus()).isZero();
            b.call("Delete", DeleteRequest.newBuilder().setId(b.id).build(), DeleteResponse.parser());
            assertThat(out.data.get(60, TimeUnit.SECONDS)).hasSize(320 * 65536);
            shutdown(b);
        }
    }

    @ParameterizedTest
    @MethodSource("shims")
    void ioUidAndGidOwnTheProcessEndsOfItsPipes(Path shim) throws Exception {
        try (ShimFixture f = new ShimFixture(shim)) {
            var b = f.new Bundle(id(), Map.of(), "busybox", "stat", "-L", "-c", "%u:%g", "/proc/self/fd/1", "/proc/self/fd/2");
            b.start();
            var out = f.new Output("out");
            var err = f.new Output("err");
            // the runc options as ctr sends them (type URL without the googleapis prefix)
            Any options = Any.newBuilder().setTypeUrl("containerd.runc.v1.Options")
                    .setValue(Options.newBuilder().setIoUid(4321).setIoGid(8765).build().toByteString()).build();
            b.call("Create", create(b, f).setStdout(out.path.toString()).setStderr(err.path.toString()).setOptions(options).build(),
                    CreateTaskResponse.parser());
            b.created = true;
            b.call("Start", StartRequest.newBuilder().setId(b.id).build(), StartResponse.parser());
            int status = b.call("Wait", WaitRequest.newBuilder().setId(b.id).build(), WaitResponse.parser()).getExitStatus();
            b.call("Delete", DeleteRequest.newBuilder().setId(b.id).build(), DeleteResponse.parser());
            // runc then hands the owner to the process's user (root here) and keeps the group: what stays
            // visible inside is io_gid, with either shim
            assertThat(out.text()).isEqualTo("0:8765\n0:8765\n");
            assertThat(status).isZero();
            shutdown(b);
        }
    }

    @ParameterizedTest
    @MethodSource("shims")
    void deleteActionAfterTheShimWasKilled(Path shim) throws Exception {
        try (ShimFixture f = new ShimFixture(shim)) {
            var b = f.new Bundle(id(), Map.of(), "sleep", "1000");
            b.start();
            CreateTaskResponse c = b.call("Create", create(b, f).build(), CreateTaskResponse.parser());
            b.call("Start", StartRequest.newBuilder().setId(b.id).build(), StartResponse.parser());
            ProcessHandle shimProcess = ProcessHandle.of(b.shimPid()).orElseThrow();
            shimProcess.destroyForcibly();
            shimProcess.onExit().get(20, TimeUnit.SECONDS);

            ProcessBuilder pb = new ProcessBuilder(shim.toString(), "-namespace", NS, "-address", f.daemonAddress.toString(),
                    "-publish-binary", "/bin/true", "-id", b.id, "-bundle", b.path.toString(), "delete")
                    .directory(b.path.toFile()).redirectError(f.dir.resolve("delete.err").toFile());
            pb.environment().put("TTRPC_ADDRESS", f.eventsSocket.toString());
            Process p = pb.start();
            byte[] out = p.getInputStream().readAllBytes();
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as(Files.readString(f.dir.resolve("delete.err"))).isZero();
            DeleteResponse d = DeleteResponse.parseFrom(out);
            assertThat(d.getPid()).isEqualTo(c.getPid());
            assertThat(d.getExitStatus()).isEqualTo(137);
            assertThat(d.getExitedAt().getSeconds()).isPositive();
            assertThat(ShimFixture.runQuietly(List.of("runc", "--root", "/run/containerd/runc/" + NS, "state", b.id)))
                    .as("runc container removed").isNotZero();
            assertThat(Files.exists(b.rootfs().resolve("bin"))).as("rootfs unmounted").isFalse();
            assertThat(gone(c.getPid())).as("container process killed").isTrue();
            if (shim.equals(JavaShim.launcher())) {
                assertThat(Path.of(b.address.substring("unix://".length()))).as("stale socket removed").doesNotExist();
            }
        }
    }

    @ParameterizedTest
    @MethodSource("shims")
    void checkpointRunsCriuAndReportsItsLog(Path shim) throws Exception {
        try (ShimFixture f = new ShimFixture(shim)) {
            var b = f.new Bundle(id(), Map.of(), "sleep", "1000");
            b.start();
            b.call("Create", create(b, f).build(), CreateTaskResponse.parser());
            assertThatThrownBy(() -> b.call("Checkpoint", CheckpointTaskRequest.newBuilder().setId(b.id)
                    .setPath(f.dir.resolve("ck").toString()).build(), Empty.parser()))
                    .hasMessageContaining("cannot checkpoint a task in created state");
            b.call("Start", StartRequest.newBuilder().setId(b.id).build(), StartResponse.parser());
            try {
                b.call("Checkpoint", CheckpointTaskRequest.newBuilder().setId(b.id).setPath(f.dir.resolve("ck").toString()).build(),
                        Empty.parser());
                assertThat(f.dir.resolve("ck/inventory.img")).exists();
            } catch (ContainerdException e) {
                // criu cannot dump on every kernel (e.g. some VMs' vDSO): the error points at criu's log
                assertThat(e.getMessage()).contains("criu").contains("path= " + b.path.resolve("criu-dump.log"));
            }
            // left running (no exit option)
            assertThat(b.call("State", StateRequest.newBuilder().setId(b.id).build(), StateResponse.parser()).getStatus())
                    .isEqualTo(Status.RUNNING);
            b.call("Kill", KillRequest.newBuilder().setId(b.id).setSignal(9).build(), Empty.parser());
            b.call("Wait", WaitRequest.newBuilder().setId(b.id).build(), WaitResponse.parser());
            b.call("Delete", DeleteRequest.newBuilder().setId(b.id).build(), DeleteResponse.parser());
            shutdown(b);
        }
    }

    @ParameterizedTest
    @MethodSource("shims")
    void oomKillIsReported(Path shim) throws Exception {
        try (ShimFixture f = new ShimFixture(shim)) {
            var b = f.new Bundle(id(), Map.of(), "dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1");
            Path config = b.path.resolve("config.json");
            Files.writeString(config, Files.readString(config).replaceFirst("\"resources\": \\{",
                    "\"resources\": {\"memory\": {\"limit\": 16777216, \"swap\": 16777216},"));
            b.start();
            b.call("Create", create(b, f).build(), CreateTaskResponse.parser());
            b.call("Start", StartRequest.newBuilder().setId(b.id).build(), StartResponse.parser());
            WaitResponse w = b.call("Wait", WaitRequest.newBuilder().setId(b.id).build(), WaitResponse.parser());
            assertThat(w.getExitStatus()).isEqualTo(137);
            b.call("Delete", DeleteRequest.newBuilder().setId(b.id).build(), DeleteResponse.parser());
            assertThat(f.topicsUntil("/tasks/delete")).contains("/tasks/oom");
            shutdown(b);
        }
    }

    @ParameterizedTest
    @MethodSource("shims")
    void groupedContainersShareOneShim(Path shim) throws Exception {
        try (ShimFixture f = new ShimFixture(shim)) {
            var b1 = f.new Bundle(id(), Map.of("io.containerd.runc.v2.group", "g1"), "sleep", "1000");
            var b2 = f.new Bundle(id(), Map.of("io.containerd.runc.v2.group", "g1"), "sleep", "1000");
            b1.start();
            b2.start();
            assertThat(b2.address).isEqualTo(b1.address);
            assertThat(b2.shimPid()).isEqualTo(b1.shimPid());
            b1.call("Create", create(b1, f).build(), CreateTaskResponse.parser());
            b2.call("Create", create(b2, f).build(), CreateTaskResponse.parser());
            for (var b : List.of(b1, b2)) {
                b.call("Start", StartRequest.newBuilder().setId(b.id).build(), StartResponse.parser());
            }
            long shimPid = b1.shimPid();
            for (var b : List.of(b1, b2)) {
                b.call("Kill", KillRequest.newBuilder().setId(b.id).setSignal(9).build(), Empty.parser());
                b.call("Wait", WaitRequest.newBuilder().setId(b.id).build(), WaitResponse.parser());
                // Shutdown with a container left keeps the shim up
                b.call("Shutdown", ShutdownRequest.newBuilder().setId(b.id).build(), Empty.parser());
                assertThat(ProcessHandle.of(shimPid).map(ProcessHandle::isAlive).orElse(false)).isTrue();
                b.call("Delete", DeleteRequest.newBuilder().setId(b.id).build(), DeleteResponse.parser());
            }
            shutdown(b2);
        }
    }

    /** Gone or a zombie: the killed shim's orphans go to pid 1, which may reap them late. */
    private static boolean gone(int pid) throws Exception {
        for (int i = 0; i < 100; i++) {
            Path stat = Path.of("/proc/" + pid + "/stat");
            try {
                String s = Files.readString(stat);
                if (s.substring(s.lastIndexOf(')') + 2).startsWith("Z")) return true;
            } catch (java.io.IOException noProcess) {
                return true;
            }
            Thread.sleep(50);
        }
        return false;
    }

    private static Any processSpec(String... args) {
        String argv = String.join(",", Stream.of(args).map(a -> "\"" + a + "\"").toList());
        String json = "{\"terminal\":false,\"user\":{\"uid\":0,\"gid\":0},\"args\":[" + argv + "],\"env\":[\"PATH=/bin\"],\"cwd\":\"/\"}";
        return Any.newBuilder().setTypeUrl("types.containerd.io/opencontainers/runtime-spec/1/Process")
                .setValue(ByteString.copyFrom(json, StandardCharsets.UTF_8)).build();
    }

    /** Shutdown: the shim exits and removes its socket; the reply may be lost as it exits. */
    private static void shutdown(ShimFixture.Bundle b) throws Exception {
        ProcessHandle shim = ProcessHandle.of(b.shimPid()).orElseThrow();
        try {
            b.call("Shutdown", ShutdownRequest.newBuilder().setId(b.id).build(), Empty.parser());
        } catch (ContainerdException e) {
            assertThat(e.kind()).isEqualTo(ErrorKind.UNAVAILABLE);
        }
        shim.onExit().get(20, TimeUnit.SECONDS);
        assertThat(Files.exists(Path.of(b.address.substring("unix://".length())))).as("socket removed").isFalse();
    }
}
