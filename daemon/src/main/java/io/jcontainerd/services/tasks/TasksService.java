package io.jcontainerd.services.tasks;

import com.google.protobuf.Any;
import com.google.protobuf.Empty;
import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.stub.StreamObserver;
import io.jcontainerd.api.runc.v1.CheckpointOptions;
import io.jcontainerd.api.runc.v1.Options;
import io.jcontainerd.api.services.containers.v1.Container;
import io.jcontainerd.api.services.tasks.v1.CheckpointTaskRequest;
import io.jcontainerd.api.services.tasks.v1.CheckpointTaskResponse;
import io.jcontainerd.api.services.tasks.v1.CloseIORequest;
import io.jcontainerd.api.services.tasks.v1.CreateTaskRequest;
import io.jcontainerd.api.services.tasks.v1.CreateTaskResponse;
import io.jcontainerd.api.services.tasks.v1.DeleteProcessRequest;
import io.jcontainerd.api.services.tasks.v1.DeleteResponse;
import io.jcontainerd.api.services.tasks.v1.DeleteTaskRequest;
import io.jcontainerd.api.services.tasks.v1.ExecProcessRequest;
import io.jcontainerd.api.services.tasks.v1.GetRequest;
import io.jcontainerd.api.services.tasks.v1.GetResponse;
import io.jcontainerd.api.services.tasks.v1.KillRequest;
import io.jcontainerd.api.services.tasks.v1.ListPidsRequest;
import io.jcontainerd.api.services.tasks.v1.ListPidsResponse;
import io.jcontainerd.api.services.tasks.v1.ListTasksRequest;
import io.jcontainerd.api.services.tasks.v1.ListTasksResponse;
import io.jcontainerd.api.services.tasks.v1.MetricsRequest;
import io.jcontainerd.api.services.tasks.v1.MetricsResponse;
import io.jcontainerd.api.services.tasks.v1.PauseTaskRequest;
import io.jcontainerd.api.services.tasks.v1.ResizePtyRequest;
import io.jcontainerd.api.services.tasks.v1.ResumeTaskRequest;
import io.jcontainerd.api.services.tasks.v1.StartRequest;
import io.jcontainerd.api.services.tasks.v1.StartResponse;
import io.jcontainerd.api.services.tasks.v1.TasksGrpc;
import io.jcontainerd.api.services.tasks.v1.UpdateTaskRequest;
import io.jcontainerd.api.services.tasks.v1.WaitRequest;
import io.jcontainerd.api.services.tasks.v1.WaitResponse;
import io.jcontainerd.api.task.v2.StateResponse;
import io.jcontainerd.api.types.Metric;
import io.jcontainerd.api.v1.types.Process;
import io.jcontainerd.api.v1.types.Status;
import io.jcontainerd.errdefs.ContainerdException;
import io.jcontainerd.errdefs.Errdefs;
import io.jcontainerd.errdefs.ErrorKind;
import io.jcontainerd.filters.Filter;
import io.jcontainerd.metadata.MetadataDb;
import io.jcontainerd.mount.Mount;
import io.jcontainerd.namespaces.Namespaces;
import io.jcontainerd.plugin.GrpcService;
import io.jcontainerd.plugin.PluginProvider;
import io.jcontainerd.plugin.PluginType;
import io.jcontainerd.plugin.Registration;
import io.jcontainerd.protobuf.Timestamps;
import io.jcontainerd.runtime.CreateOpts;
import io.jcontainerd.runtime.Exit;
import io.jcontainerd.runtime.TaskIO;
import io.jcontainerd.runtime.v2.ShimTask;
import io.jcontainerd.runtime.v2.TaskManager;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * containerd.services.tasks.v1.Tasks: containerd's local tasks service over the runtime v2
 * {@link TaskManager}. A task is found through its container record; process-level calls with an exec id
 * address that exec, otherwise the task's init process.
 */
public final class TasksService extends TasksGrpc.TasksImplBase implements GrpcService {
    private static final Logger LOG = System.getLogger(TasksService.class.getName());
    /** containerd's io.containerd.timeout.task.state: how long a listing waits for one shim. */
    static final String RUNC_OPTIONS = "containerd.runc.v1.Options";
    static final String RUNC_CHECKPOINT_OPTIONS = "containerd.runc.v1.CheckpointOptions";

    private final MetadataDb db;
    private final TaskManager runtime;
    private final Clock clock;

    TasksService(MetadataDb db, TaskManager runtime, Clock clock) {
        this.db = db;
        this.runtime = runtime;
        this.clock = clock;
    }

    private Container container(String ns, String id) {
        return db.read(tx -> db.containers(tx, ns).get(id));
    }

    private ShimTask task(String ns, String id) {
        Container c = container(ns, id);
        return runtime.get(ns, c.getId()).orElseThrow(() -> Errdefs.notFound("task %s not found", c.getId()));
    }

    /** The exec must exist: like containerd's t.Process, look up its state first. */
    private static ShimTask withProcess(ShimTask t, String execId) {
        if (!execId.isEmpty()) t.state(execId, null);
        return t;
    }

    private static <T> void reply(StreamObserver<T> out, T value) {
        out.onNext(value);
        out.onCompleted();
    }

    @Override
    public void create(CreateTaskRequest req, StreamObserver<CreateTaskResponse> out) {
        String ns = Namespaces.required();
        Container c = container(ns, req.getContainerId());
        String restorePath = runcOption(c.getRuntime().getName(), req.hasOptions() ? req.getOptions() : null, RUNC_OPTIONS,
                "invalid task create option for %s", a -> Options.parseFrom(a.getValue()).getCriuImagePath());
        if (restorePath.isEmpty() && req.hasCheckpoint()) {
            throw Errdefs.notImplemented("restoring a task from checkpoint content %s is not supported", req.getCheckpoint().getDigest());
        }
        List<Mount> rootfs = req.getRootfsList().stream()
                .map(m -> new Mount(m.getType(), m.getSource(), m.getTarget(), m.getOptionsList())).toList();
        CreateOpts opts = new CreateOpts(c.getSpec(), rootfs,
                new TaskIO(req.getStdin(), req.getStdout(), req.getStderr(), req.getTerminal()), restorePath,
                req.getRuntimePath().isEmpty() ? c.getRuntime().getName() : req.getRuntimePath(),
                c.getRuntime().hasOptions() ? c.getRuntime().getOptions() : null,
                req.hasOptions() ? req.getOptions() : null);
        if (runtime.get(ns, c.getId()).isPresent()) throw Errdefs.alreadyExists("task %s: already exists", c.getId());
        ShimTask t;
        try {
            t = runtime.create(ns, c.getId(), opts);
        } catch (IOException e) {
            throw new ContainerdException(ErrorKind.UNKNOWN, e.getMessage(), e);
        }
        int pid;
        try {
            pid = t.pid();
        } catch (ContainerdException e) {
            throw new ContainerdException(e.kind(), "failed to get task pid: " + e.getMessage(), e);
        }
        reply(out, CreateTaskResponse.newBuilder().setContainerId(c.getId()).setPid(pid).build());
    }

    @Override
    public void start(StartRequest req, StreamObserver<StartResponse> out) {
        String ns = Namespaces.required();
        ShimTask t = withProcess(task(ns, req.getContainerId()), req.getExecId());
        int pid = t.start(req.getExecId());
        reply(out, StartResponse.newBuilder().setPid(pid).build());
    }

    @Override
    public void delete(DeleteTaskRequest req, StreamObserver<DeleteResponse> out) {
        String ns = Namespaces.required();
        Container c = container(ns, req.getContainerId());
        if (runtime.get(ns, c.getId()).isEmpty()) throw Errdefs.notFound("task %s not found", c.getId());
        Exit exit = runtime.delete(ns, c.getId());
        reply(out, DeleteResponse.newBuilder().setPid(exit.pid()).setExitStatus(exit.status()).setExitedAt(exit.exitedAt()).build());
    }

    @Override
    public void deleteProcess(DeleteProcessRequest req, StreamObserver<DeleteResponse> out) {
        String ns = Namespaces.required();
        ShimTask t = withProcess(task(ns, req.getContainerId()), req.getExecId());
        Exit exit = t.deleteProcess(req.getExecId());
        reply(out, DeleteResponse.newBuilder().setId(req.getExecId()).setPid(exit.pid()).setExitStatus(exit.status())
                .setExitedAt(exit.exitedAt()).build());
    }

    @Override
    public void get(GetRequest req, StreamObserver<GetResponse> out) {
        String ns = Namespaces.required();
        ShimTask t = withProcess(task(ns, req.getContainerId()), req.getExecId());
        Process p = processState(t, req.getExecId()).orElseThrow(() -> Errdefs.notFound("task %s not found", t.id()));
        reply(out, GetResponse.newBuilder().setProcess(p).build());
    }

    /**
     * containerd's getProcessState: NOT_FOUND (the task is going away) gives nothing; any other failure is
     * logged and gives the process with status UNKNOWN.
     */
    private Optional<Process> processState(ShimTask t, String execId) {
        Process.Builder p = Process.newBuilder().setId(execId.isEmpty() ? t.id() : execId);
        StateResponse s;
        try {
            s = t.state(execId, runtime.timeouts().taskState());
        } catch (ContainerdException e) {
            if (e.kind() == ErrorKind.NOT_FOUND) return Optional.empty();
            LOG.log(Level.ERROR, "get state for " + p.getId() + ": " + e.getMessage());
            return Optional.of(p.setStatus(Status.UNKNOWN).build());
        }
        p.setPid(s.getPid()).setStatus(s.getStatus()).setStdin(s.getStdin()).setStdout(s.getStdout()).setStderr(s.getStderr())
                .setTerminal(s.getTerminal()).setExitStatus(s.getExitStatus());
        if (s.hasExitedAt()) p.setExitedAt(s.getExitedAt());
        return Optional.of(p.build());
    }

    @Override
    public void list(ListTasksRequest req, StreamObserver<ListTasksResponse> out) {
        String ns = Namespaces.required();
        ListTasksResponse.Builder r = ListTasksResponse.newBuilder();
        for (ShimTask t : runtime.tasks(ns)) processState(t, "").ifPresent(r::addTasks);
        reply(out, r.build());
    }

    @Override
    public void kill(KillRequest req, StreamObserver<Empty> out) {
        String ns = Namespaces.required();
        ShimTask t = withProcess(task(ns, req.getContainerId()), req.getExecId());
        t.kill(req.getExecId(), req.getSignal(), req.getAll());
        reply(out, Empty.getDefaultInstance());
    }

    @Override
    public void exec(ExecProcessRequest req, StreamObserver<Empty> out) {
        String ns = Namespaces.required();
        if (req.getExecId().isEmpty()) throw Errdefs.invalidArgument("exec id cannot be empty");
        ShimTask t = task(ns, req.getContainerId());
        try {
            Namespaces.validateIdentifier(req.getExecId());
        } catch (ContainerdException e) {
            throw new ContainerdException(e.kind(), "invalid exec id " + req.getExecId() + ": " + e.getMessage(), e);
        }
        t.exec(req.getExecId(), new TaskIO(req.getStdin(), req.getStdout(), req.getStderr(), req.getTerminal()),
                req.hasSpec() ? req.getSpec() : null);
        reply(out, Empty.getDefaultInstance());
    }

    @Override
    public void resizePty(ResizePtyRequest req, StreamObserver<Empty> out) {
        String ns = Namespaces.required();
        ShimTask t = withProcess(task(ns, req.getContainerId()), req.getExecId());
        t.resizePty(req.getExecId(), req.getWidth(), req.getHeight());
        reply(out, Empty.getDefaultInstance());
    }

    @Override
    public void closeIO(CloseIORequest req, StreamObserver<Empty> out) {
        String ns = Namespaces.required();
        ShimTask t = withProcess(task(ns, req.getContainerId()), req.getExecId());
        if (req.getStdin()) t.closeIO(req.getExecId());
        reply(out, Empty.getDefaultInstance());
    }

    @Override
    public void pause(PauseTaskRequest req, StreamObserver<Empty> out) {
        task(Namespaces.required(), req.getContainerId()).pause();
        reply(out, Empty.getDefaultInstance());
    }

    @Override
    public void resume(ResumeTaskRequest req, StreamObserver<Empty> out) {
        task(Namespaces.required(), req.getContainerId()).resume();
        reply(out, Empty.getDefaultInstance());
    }

    @Override
    public void listPids(ListPidsRequest req, StreamObserver<ListPidsResponse> out) {
        ShimTask t = task(Namespaces.required(), req.getContainerId());
        reply(out, ListPidsResponse.newBuilder().addAllProcesses(t.pids()).build());
    }

    /**
     * Checkpoints through the shim into the directory named by the runc CheckpointOptions' image_path.
     * Without criu installed this is FAILED_PRECONDITION up front; writing the checkpoint into the content
     * store (no image_path) is not supported yet.
     */
    @Override
    public void checkpoint(CheckpointTaskRequest req, StreamObserver<CheckpointTaskResponse> out) {
        String ns = Namespaces.required();
        Container c = container(ns, req.getContainerId());
        ShimTask t = runtime.get(ns, c.getId()).orElseThrow(() -> Errdefs.notFound("task %s not found", c.getId()));
        Any options = req.hasOptions() ? req.getOptions() : null;
        String image = runcOption(c.getRuntime().getName(), options, RUNC_CHECKPOINT_OPTIONS,
                "invalid task checkpoint option for %s", a -> CheckpointOptions.parseFrom(a.getValue()).getImagePath());
        if (criuPath(c, options).isEmpty()) throw Errdefs.failedPrecondition("criu not installed");
        if (image.isEmpty()) {
            throw Errdefs.notImplemented("checkpoint into the content store is not supported; set an image path in the checkpoint options");
        }
        t.checkpoint(image, options);
        reply(out, CheckpointTaskResponse.getDefaultInstance());
    }

    private static Optional<java.nio.file.Path> criuPath(Container c, Any checkpointOptions) {
        if (c.getRuntime().hasOptions() && c.getRuntime().getOptions().getTypeUrl().endsWith(RUNC_OPTIONS)) {
            try {
                String p = Options.parseFrom(c.getRuntime().getOptions().getValue()).getCriuPath();
                if (!p.isEmpty()) return java.nio.file.Files.isExecutable(java.nio.file.Path.of(p)) ? Optional.of(java.nio.file.Path.of(p)) : Optional.empty();
            } catch (InvalidProtocolBufferException e) {
                // fall back to PATH
            }
        }
        return lookPath("criu");
    }

    private static Optional<java.nio.file.Path> lookPath(String name) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin").split(":")) {
            java.nio.file.Path p = java.nio.file.Path.of(dir.isEmpty() ? "." : dir, name);
            if (java.nio.file.Files.isExecutable(p)) return Optional.of(p);
        }
        return Optional.empty();
    }

    @FunctionalInterface
    private interface OptionReader {
        String read(Any any) throws InvalidProtocolBufferException;
    }

    /** A path from runc's options Any (only for io.containerd.runc.* runtimes), as containerd's get*Path. */
    private static String runcOption(String runtimeName, Any options, String expectedType, String invalid, OptionReader reader) {
        if (options == null || !runtimeName.startsWith("io.containerd.runc")) return "";
        String url = options.getTypeUrl();
        if (!url.substring(url.lastIndexOf('/') + 1).equals(expectedType)) throw Errdefs.invalidArgument(invalid, runtimeName);
        try {
            return reader.read(options);
        } catch (InvalidProtocolBufferException e) {
            throw Errdefs.invalidArgument(invalid, runtimeName);
        }
    }

    @Override
    public void update(UpdateTaskRequest req, StreamObserver<Empty> out) {
        ShimTask t = task(Namespaces.required(), req.getContainerId());
        t.update(req.hasResources() ? req.getResources() : null, req.getAnnotationsMap());
        reply(out, Empty.getDefaultInstance());
    }

    /** The shims' statistics for every task matching the filters (fields id, namespace). */
    @Override
    public void metrics(MetricsRequest req, StreamObserver<MetricsResponse> out) {
        String ns = Namespaces.required();
        Filter filter = Filter.parseAll(req.getFiltersList());
        MetricsResponse.Builder r = MetricsResponse.newBuilder();
        for (ShimTask t : runtime.tasks(ns)) {
            boolean match = filter.match(path -> switch (path.getFirst()) {
                case "id" -> Optional.of(t.id());
                case "namespace" -> Optional.of(t.namespace());
                default -> Optional.empty();
            });
            if (!match) continue;
            var collected = clock.instant();
            Any stats;
            try {
                stats = t.stats();
            } catch (ContainerdException e) {
                if (e.kind() != ErrorKind.NOT_FOUND) LOG.log(Level.ERROR, "collecting metrics for " + t.id() + ": " + e.getMessage());
                continue;
            }
            Metric.Builder m = Metric.newBuilder().setTimestamp(Timestamps.of(collected)).setId(t.id());
            if (stats != null) m.setData(stats);
            r.addMetrics(m);
        }
        reply(out, r.build());
    }

    /**
     * Blocks until the process exits. A client that gives up leaves this virtual thread waiting on the shim
     * until the exit: interrupting it could close the shim's connection mid-write, which would read as the
     * shim's death.
     */
    @Override
    public void wait(WaitRequest req, StreamObserver<WaitResponse> out) {
        String ns = Namespaces.required();
        ShimTask t = withProcess(task(ns, req.getContainerId()), req.getExecId());
        Exit exit = t.await(req.getExecId());
        reply(out, WaitResponse.newBuilder().setExitStatus(exit.status()).setExitedAt(exit.exitedAt()).build());
    }

    public static final class Provider implements PluginProvider {
        @Override
        public List<Registration> registrations() {
            return List.of(Registration.of(PluginType.GRPC, "tasks", List.of(PluginType.RUNTIME_V2, PluginType.METADATA),
                    ic -> new TasksService(ic.plugins().single(PluginType.METADATA, MetadataDb.class),
                            ic.plugins().get(PluginType.RUNTIME_V2, "task", TaskManager.class), ic.clock())));
        }
    }
}
