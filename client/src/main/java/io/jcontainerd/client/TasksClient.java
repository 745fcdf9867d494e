package io.jcontainerd.client;

import static io.jcontainerd.client.ClientException.call;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import io.grpc.Channel;
import io.grpc.stub.StreamObserver;
import io.jcontainerd.api.services.tasks.v1.CloseIORequest;
import io.jcontainerd.api.services.tasks.v1.CreateTaskRequest;
import io.jcontainerd.api.services.tasks.v1.DeleteProcessRequest;
import io.jcontainerd.api.services.tasks.v1.DeleteTaskRequest;
import io.jcontainerd.api.services.tasks.v1.ExecProcessRequest;
import io.jcontainerd.api.services.tasks.v1.GetRequest;
import io.jcontainerd.api.services.tasks.v1.KillRequest;
import io.jcontainerd.api.services.tasks.v1.ListPidsRequest;
import io.jcontainerd.api.services.tasks.v1.ListTasksRequest;
import io.jcontainerd.api.services.tasks.v1.MetricsRequest;
import io.jcontainerd.api.services.tasks.v1.PauseTaskRequest;
import io.jcontainerd.api.services.tasks.v1.ResizePtyRequest;
import io.jcontainerd.api.services.tasks.v1.ResumeTaskRequest;
import io.jcontainerd.api.services.tasks.v1.StartRequest;
import io.jcontainerd.api.services.tasks.v1.TasksGrpc;
import io.jcontainerd.api.services.tasks.v1.WaitRequest;
import io.jcontainerd.api.services.tasks.v1.WaitResponse;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * containerd.services.tasks.v1.Tasks: the running side of containers. A task is a container's init
 * process ({@code execId} empty) plus the processes exec'd into it; stdio are paths (usually FIFOs,
 * see {@link io.jcontainerd.client.cio.TaskIo}) that the shim opens.
 */
public final class TasksClient {
    /** The type URL containerd gives an OCI process spec (exec). */
    public static final String PROCESS_SPEC_TYPE = "types.containerd.io/opencontainers/runtime-spec/1/Process";

    private final TasksGrpc.TasksBlockingStub stub;
    private final TasksGrpc.TasksStub async;

    TasksClient(Channel channel) {
        this.stub = TasksGrpc.newBlockingStub(channel);
        this.async = TasksGrpc.newStub(channel);
    }

    public enum Status { UNKNOWN, CREATED, RUNNING, STOPPED, PAUSED, PAUSING }

    /**
     * A task's or exec'd process's state; {@code id} is the container id for a task's init process
     * (what List returns), the exec id for others.
     */
    public record Process(String containerId, String id, int pid, Status status, Stdio stdio, int exitStatus,
                          Instant exitedAt) {}

    /** Where a process's stdio goes (paths the shim opens; empty: none) and whether it has a terminal. */
    public record Stdio(String stdin, String stdout, String stderr, boolean terminal) {
        public static final Stdio NULL = new Stdio("", "", "", false);

        public Stdio {
            stdin = stdin == null ? "" : stdin;
            stdout = stdout == null ? "" : stdout;
            stderr = stderr == null ? "" : stderr;
        }
    }

    public record ExitStatus(int code, Instant exitedAt) {}

    /** A process of a task, with its runtime-specific details (runc: containerd.runc.v1.ProcessDetails). */
    public record ProcessInfo(int pid, Any info) {}

    public record Metric(String id, Instant timestamp, Any data) {}

    private static Process of(io.jcontainerd.api.v1.types.Process p) {
        Status s = switch (p.getStatus()) {
            case CREATED -> Status.CREATED;
            case RUNNING -> Status.RUNNING;
            case STOPPED -> Status.STOPPED;
            case PAUSED -> Status.PAUSED;
            case PAUSING -> Status.PAUSING;
            default -> Status.UNKNOWN;
        };
        return new Process(p.getContainerId(), p.getId(), p.getPid(), s,
                new Stdio(p.getStdin(), p.getStdout(), p.getStderr(), p.getTerminal()), p.getExitStatus(),
                Protos.instant(p.getExitedAt()));
    }

    /**
     * Creates the task of container {@code id} on {@code rootfs} (the mounts of its snapshot); returns
     * the init pid. {@code options} are runtime options (null: the container's).
     */
    public int create(String id, List<Mount> rootfs, Stdio stdio, Any options) {
        var b = CreateTaskRequest.newBuilder().setContainerId(id).setStdin(stdio.stdin()).setStdout(stdio.stdout())
                .setStderr(stdio.stderr()).setTerminal(stdio.terminal());
        for (Mount m : rootfs) b.addRootfs(m.toProto());
        if (options != null) b.setOptions(options);
        return call(() -> stub.create(b.build())).getPid();
    }

    /** Starts the init process ({@code execId} empty) or an exec'd one; returns its pid. */
    public int start(String id, String execId) {
        return call(() -> stub.start(StartRequest.newBuilder().setContainerId(id).setExecId(nz(execId)).build())).getPid();
    }

    /**
     * Waits for a process to exit. Call it before {@link #start} so a quick exit is not missed;
     * the future fails with a {@link ClientException}.
     */
    public CompletableFuture<ExitStatus> waitAsync(String id, String execId) {
        CompletableFuture<ExitStatus> f = new CompletableFuture<>();
        async.wait(WaitRequest.newBuilder().setContainerId(id).setExecId(nz(execId)).build(), new StreamObserver<>() {
            @Override
            public void onNext(WaitResponse r) {
                f.complete(new ExitStatus(r.getExitStatus(), Protos.instant(r.getExitedAt())));
            }

            @Override
            public void onError(Throwable t) {
                f.completeExceptionally(ClientException.from(t));
            }

            @Override
            public void onCompleted() {
                f.completeExceptionally(ClientException.unknown("wait ended without a status", null));
            }
        });
        return f;
    }

    /** Blocks until the process exits. */
    public ExitStatus await(String id, String execId) {
        return join(waitAsync(id, execId));
    }

    /** {@code future.join()}, with the {@link ClientException} of a failed call unwrapped. */
    public static ExitStatus join(CompletableFuture<ExitStatus> future) {
        try {
            return future.get();
        } catch (ExecutionException e) {
            throw ClientException.from(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw ClientException.unknown("interrupted while waiting", e);
        }
    }

    /** Signals the process; {@code all}: every process of the task. */
    public void kill(String id, String execId, int signal, boolean all) {
        call(() -> stub.kill(KillRequest.newBuilder().setContainerId(id).setExecId(nz(execId)).setSignal(signal).setAll(all).build()));
    }

    /** Deletes a stopped (or created) task; returns the init's exit status. */
    public ExitStatus delete(String id) {
        var r = call(() -> stub.delete(DeleteTaskRequest.newBuilder().setContainerId(id).build()));
        return new ExitStatus(r.getExitStatus(), Protos.instant(r.getExitedAt()));
    }

    public ExitStatus deleteProcess(String id, String execId) {
        var r = call(() -> stub.deleteProcess(DeleteProcessRequest.newBuilder().setContainerId(id).setExecId(execId).build()));
        return new ExitStatus(r.getExitStatus(), Protos.instant(r.getExitedAt()));
    }

    public Process get(String id, String execId) {
        return of(call(() -> stub.get(GetRequest.newBuilder().setContainerId(id).setExecId(nz(execId)).build())).getProcess());
    }

    public List<Process> list(String filter) {
        return call(() -> stub.list(ListTasksRequest.newBuilder().setFilter(nz(filter)).build()))
                .getTasksList().stream().map(TasksClient::of).toList();
    }

    /** Adds process {@code execId} to a running task; {@code processSpecJson} is an OCI process spec. */
    public void exec(String id, String execId, String processSpecJson, Stdio stdio) {
        Any spec = Any.newBuilder().setTypeUrl(PROCESS_SPEC_TYPE)
                .setValue(ByteString.copyFrom(processSpecJson, StandardCharsets.UTF_8)).build();
        call(() -> stub.exec(ExecProcessRequest.newBuilder().setContainerId(id).setExecId(execId).setSpec(spec)
                .setStdin(stdio.stdin()).setStdout(stdio.stdout()).setStderr(stdio.stderr()).setTerminal(stdio.terminal()).build()));
    }

    public void resizePty(String id, String execId, int width, int height) {
        call(() -> stub.resizePty(ResizePtyRequest.newBuilder().setContainerId(id).setExecId(nz(execId)).setWidth(width).setHeight(height).build()));
    }

    /** Closes the process's stdin (the shim's side), so it reads EOF. */
    public void closeStdin(String id, String execId) {
        call(() -> stub.closeIO(CloseIORequest.newBuilder().setContainerId(id).setExecId(nz(execId)).setStdin(true).build()));
    }

    public void pause(String id) {
        call(() -> stub.pause(PauseTaskRequest.newBuilder().setContainerId(id).build()));
    }

    public void resume(String id) {
        call(() -> stub.resume(ResumeTaskRequest.newBuilder().setContainerId(id).build()));
    }

    public List<ProcessInfo> pids(String id) {
        return call(() -> stub.listPids(ListPidsRequest.newBuilder().setContainerId(id).build())).getProcessesList()
                .stream().map(p -> new ProcessInfo(p.getPid(), p.hasInfo() ? p.getInfo() : null)).toList();
    }

    /** Metrics of the tasks matching the filters (e.g. {@code id==c1}); data is cgroups v1 or v2 Metrics. */
    public List<Metric> metrics(String... filters) {
        return call(() -> stub.metrics(MetricsRequest.newBuilder().addAllFilters(List.of(filters)).build())).getMetricsList()
                .stream().map(m -> new Metric(m.getId(), Protos.instant(m.getTimestamp()), m.hasData() ? m.getData() : null)).toList();
    }

    private static String nz(String s) {
        return s == null ? "" : s;
    }
}
