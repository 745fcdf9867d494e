package io.jcontainerd.shim.task;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Parser;
import com.google.protobuf.Empty;
import com.google.protobuf.Message;
import io.jcontainerd.api.events.TaskCreate;
import io.jcontainerd.api.events.TaskDelete;
import io.jcontainerd.api.events.TaskExecAdded;
import io.jcontainerd.api.events.TaskExecStarted;
import io.jcontainerd.api.events.TaskIO;
import io.jcontainerd.api.events.TaskPaused;
import io.jcontainerd.api.events.TaskResumed;
import io.jcontainerd.api.events.TaskStart;
import io.jcontainerd.api.runc.v1.ProcessDetails;
import io.jcontainerd.api.task.v2.CheckpointTaskRequest;
import io.jcontainerd.api.task.v2.CloseIORequest;
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
import io.jcontainerd.api.task.v2.ResizePtyRequest;
import io.jcontainerd.api.task.v2.ResumeRequest;
import io.jcontainerd.api.task.v2.ShutdownRequest;
import io.jcontainerd.api.task.v2.StartRequest;
import io.jcontainerd.api.task.v2.StartResponse;
import io.jcontainerd.api.task.v2.StateRequest;
import io.jcontainerd.api.task.v2.StateResponse;
import io.jcontainerd.api.task.v2.StatsRequest;
import io.jcontainerd.api.task.v2.StatsResponse;
import io.jcontainerd.api.task.v2.UpdateTaskRequest;
import io.jcontainerd.api.task.v2.WaitRequest;
import io.jcontainerd.api.task.v2.WaitResponse;
import io.jcontainerd.api.v1.types.ProcessInfo;
import io.jcontainerd.api.v1.types.Status;
import io.jcontainerd.errdefs.Errdefs;
import io.jcontainerd.protobuf.Timestamps;
import io.jcontainerd.shim.io.Stdio;
import io.jcontainerd.shim.util.Log;
import io.jcontainerd.ttrpc.Method;
import io.jcontainerd.ttrpc.RequestContext;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * {@code containerd.task.v2.Task} for runc containers: the RPC surface of the shim. Each call finds its
 * container and delegates; task events are published in containerd's order (create, start, exit,
 * delete) because a container's start and exit publishing share its {@link Container#eventLock}.
 */
public final class TaskService {
    public static final String SERVICE = "containerd.task.v2.Task";
    private static final Empty EMPTY = Empty.getDefaultInstance();

    private final EventPublisher events;
    private final String defaultNamespace;
    private final Runnable onShutdown;
    private final Duration idleTimeout;
    /** Guards the decision to exit against a Create arriving meanwhile. */
    private final Object lifecycle = new Object();
    private boolean exiting;
    /** Bumped by every Create and idle timer: a timer only acts if nothing happened since it was armed. */
    private long idleGeneration;
    private final Map<String, Container> containers = new ConcurrentHashMap<>();
    private final Set<String> creating = ConcurrentHashMap.newKeySet();
    private final CompletableFuture<?> ready;

    /**
     * @param events           where task events go
     * @param defaultNamespace the shim's {@code -namespace}, for requests that carry none
     * @param onShutdown       run (once) when the shim is to exit: Shutdown found no containers left, or it
     *                         was idle for {@code idleTimeout}
     * @param ready            completes once the process can spawn and reap (subreaper, reaper thread);
     *                         calls wait for it, so that it can be prepared while the socket already listens
     * @param idleTimeout      zero: exit at the Shutdown that finds no containers (the runtime v2 contract);
     *                         else stay that long without containers, counted from start-up too (a shim the
     *                         daemon started, kept for its group's next container)
     */
    public TaskService(EventPublisher events, String defaultNamespace, Runnable onShutdown, CompletableFuture<?> ready,
                       Duration idleTimeout) {
        this.ready = ready;
        this.events = events;
        this.defaultNamespace = defaultNamespace;
        this.onShutdown = onShutdown;
        this.idleTimeout = idleTimeout;
        if (idleTimeout.isPositive()) synchronized (lifecycle) {
            armIdleTimer();
        }
    }

    /** Shutdown: exit now, or once idle long enough, unless containers are served or being created. */
    private void shutdownIfIdle() {
        synchronized (lifecycle) {
            if (exiting || !containers.isEmpty() || !creating.isEmpty()) return;
            if (idleTimeout.isPositive()) {
                armIdleTimer();
            } else {
                exit();
            }
        }
    }

    private void armIdleTimer() {
        long generation = ++idleGeneration;
        Thread.ofVirtual().name("idle-timer").start(() -> {
            try {
                Thread.sleep(idleTimeout);
            } catch (InterruptedException e) {
                return;
            }
            synchronized (lifecycle) {
                if (generation == idleGeneration && !exiting && containers.isEmpty() && creating.isEmpty()) {
                    Log.debug("idle for " + idleTimeout.toMillis() + " ms, exiting");
                    exit();
                }
            }
        });
    }

    private void exit() {
        exiting = true;
        onShutdown.run();
    }

    void publish(String namespace, String topic, Message event) {
        events.publish(namespace, topic, event);
    }

    private String namespace(RequestContext ctx) {
        return ctx.namespace().orElse(defaultNamespace);
    }

    private Container container(String id) {
        Container c = containers.get(id);
        if (c == null) throw Container.notCreated();
        return c;
    }

    /** The methods to register on a ttrpc server under {@link #SERVICE}. */
    public Map<String, Method> methods() {
        Map<String, Method> m = new HashMap<>();
        m.put("State", typed(StateRequest::parser, (ctx, r) -> state(r)));
        m.put("Create", typed(CreateTaskRequest::parser, this::create));
        m.put("Start", typed(StartRequest::parser, (ctx, r) -> start(r)));
        m.put("Delete", typed(DeleteRequest::parser, (ctx, r) -> delete(r)));
        m.put("Pids", typed(PidsRequest::parser, (ctx, r) -> pids(r)));
        m.put("Pause", typed(PauseRequest::parser, (ctx, r) -> {
            Container c = container(r.getId());
            c.pause();
            publish(c.namespace, "/tasks/paused", TaskPaused.newBuilder().setContainerId(c.id).build());
            return EMPTY;
        }));
        m.put("Resume", typed(ResumeRequest::parser, (ctx, r) -> {
            Container c = container(r.getId());
            c.resume();
            publish(c.namespace, "/tasks/resumed", TaskResumed.newBuilder().setContainerId(c.id).build());
            return EMPTY;
        }));
        m.put("Checkpoint", typed(CheckpointTaskRequest::parser, (ctx, r) -> {
            container(r.getId()).checkpoint(r.getPath(), r.hasOptions() ? r.getOptions() : null);
            return EMPTY;
        }));
        m.put("Kill", typed(KillRequest::parser, (ctx, r) -> {
            container(r.getId()).kill(r.getExecId(), r.getSignal(), r.getAll());
            return EMPTY;
        }));
        m.put("Exec", typed(ExecProcessRequest::parser, (ctx, r) -> {
            Container c = container(r.getId());
            ExecProcess e = c.exec(r.getExecId(), new Stdio(r.getStdin(), r.getStdout(), r.getStderr(), r.getTerminal()), r.getSpec());
            publish(c.namespace, "/tasks/exec-added", TaskExecAdded.newBuilder().setContainerId(c.id).setExecId(e.id).build());
            return EMPTY;
        }));
        m.put("ResizePty", typed(ResizePtyRequest::parser, (ctx, r) -> {
            Proc p = container(r.getId()).process(r.getExecId());
            if (p.state == Proc.State.DELETED && p instanceof ExecProcess) throw Proc.unknown("cannot resize a deleted process");
            if (p.state == Proc.State.STOPPED && p instanceof ExecProcess) throw Proc.unknown("cannot resize a stopped container");
            p.resize(r.getWidth(), r.getHeight());
            return EMPTY;
        }));
        m.put("CloseIO", typed(CloseIORequest::parser, (ctx, r) -> {
            Proc p = container(r.getId()).process(r.getExecId());
            p.closeStdin();
            return EMPTY;
        }));
        m.put("Update", typed(UpdateTaskRequest::parser, (ctx, r) -> {
            container(r.getId()).update(r.getResources());
            return EMPTY;
        }));
        m.put("Wait", typed(WaitRequest::parser, (ctx, r) -> {
            Proc p = container(r.getId()).process(r.getExecId());
            p.awaitExit();
            return WaitResponse.newBuilder().setExitStatus(p.exitStatus()).setExitedAt(Timestamps.of(p.exitedAt())).build();
        }));
        m.put("Stats", typed(StatsRequest::parser, (ctx, r) -> {
            Container c = container(r.getId());
            return StatsResponse.newBuilder().setStats(Stats.toAny(c.runc.stats(c.id))).build();
        }));
        m.put("Connect", typed(ConnectRequest::parser, (ctx, r) -> {
            Container c = containers.get(r.getId());
            return ConnectResponse.newBuilder().setShimPid((int) ProcessHandle.current().pid())
                    .setTaskPid(c == null ? 0 : c.init.pid).build();
        }));
        m.put("Shutdown", typed(ShutdownRequest::parser, (ctx, r) -> {
            // a shim serving other containers stays up
            shutdownIfIdle();
            return EMPTY;
        }));
        return m;
    }

    /**
     * A unary method whose request type is resolved on its first call: a shim initializes only the
     * message classes of the calls it gets.
     */
    private <Q extends Message> Method typed(Supplier<Parser<Q>> parser, Method.Typed<Q> handler) {
        return Method.unary((ctx, payload) -> {
            long t0 = System.nanoTime();
            ready.join();
            Q request;
            try {
                request = parser.get().parseFrom(payload);
            } catch (InvalidProtocolBufferException e) {
                throw io.grpc.Status.INTERNAL.withDescription("ttrpc: error unmarshalling payload: " + e.getMessage()).asRuntimeException();
            }
            Message response = handler.call(ctx, request);
            if (Log.debugEnabled()) Log.debug(ctx.method() + " took " + (System.nanoTime() - t0) / 1_000_000 + " ms");
            return response == null ? ByteString.EMPTY : response.toByteString();
        });
    }

    private CreateTaskResponse create(RequestContext ctx, CreateTaskRequest r) throws Exception {
        String ns = namespace(ctx);
        if (ns == null || ns.isEmpty()) throw Errdefs.failedPrecondition("create namespace: namespace is required: failed precondition");
        synchronized (lifecycle) {
            // the daemon then starts a new shim for the group
            if (exiting) throw Errdefs.unavailable("shim is shutting down");
            if (containers.containsKey(r.getId()) || !creating.add(r.getId())) {
                throw Errdefs.alreadyExists("container %s: already exists", r.getId());
            }
            idleGeneration++;
        }
        try {
            Container c = Container.create(this, ns, r);
            containers.put(c.id, c);
            publish(ns, "/tasks/create", TaskCreate.newBuilder()
                    .setContainerId(r.getId()).setBundle(r.getBundle()).addAllRootfs(r.getRootfsList())
                    .setIo(TaskIO.newBuilder().setStdin(r.getStdin()).setStdout(r.getStdout()).setStderr(r.getStderr())
                            .setTerminal(r.getTerminal()))
                    .setCheckpoint(r.getCheckpoint()).setPid(c.init.pid).build());
            return CreateTaskResponse.newBuilder().setPid(c.init.pid).build();
        } finally {
            creating.remove(r.getId());
        }
    }

    private StartResponse start(StartRequest r) throws Exception {
        Container c = container(r.getId());
        c.eventLock.lock();
        try {
            int pid = c.start(r.getExecId());
            if (r.getExecId().isEmpty()) {
                publish(c.namespace, "/tasks/start", TaskStart.newBuilder().setContainerId(c.id).setPid(pid).build());
            } else {
                publish(c.namespace, "/tasks/exec-started", TaskExecStarted.newBuilder()
                        .setContainerId(c.id).setExecId(r.getExecId()).setPid(pid).build());
            }
            return StartResponse.newBuilder().setPid(pid).build();
        } finally {
            c.eventLock.unlock();
        }
    }

    private DeleteResponse delete(DeleteRequest r) throws Exception {
        Container c = container(r.getId());
        Proc p = c.delete(r.getExecId());
        if (r.getExecId().isEmpty()) {
            containers.remove(c.id);
            publish(c.namespace, "/tasks/delete", TaskDelete.newBuilder().setContainerId(c.id).setPid(p.pid)
                    .setExitStatus(p.exitStatus()).setExitedAt(Timestamps.of(p.exitedAt())).build());
        }
        return DeleteResponse.newBuilder().setPid(p.pid).setExitStatus(p.exitStatus())
                .setExitedAt(Timestamps.of(p.exitedAt())).build();
    }

    private StateResponse state(StateRequest r) {
        Container c = container(r.getId());
        Proc p = c.process(r.getExecId());
        Status status = switch (p.status()) {
            case "created" -> Status.CREATED;
            case "running" -> Status.RUNNING;
            case "stopped" -> Status.STOPPED;
            case "paused" -> Status.PAUSED;
            case "pausing" -> Status.PAUSING;
            default -> Status.UNKNOWN;
        };
        return StateResponse.newBuilder().setId(p.id).setBundle(c.bundle.toString()).setPid(p.pid).setStatus(status)
                .setStdin(p.stdio.stdin()).setStdout(p.stdio.stdout()).setStderr(p.stdio.stderr())
                .setTerminal(p.stdio.terminal()).setExitStatus(p.exitStatus()).setExitedAt(Timestamps.of(p.exitedAt()))
                .build();
    }

    private PidsResponse pids(PidsRequest r) throws Exception {
        Container c = container(r.getId());
        PidsResponse.Builder b = PidsResponse.newBuilder();
        for (int pid : c.pids()) {
            ProcessInfo.Builder info = ProcessInfo.newBuilder().setPid(pid);
            for (ExecProcess e : c.execs()) {
                if (e.pid == pid) {
                    ProcessDetails d = ProcessDetails.newBuilder().setExecId(e.id).build();
                    info.setInfo(Any.newBuilder().setTypeUrl(d.getDescriptorForType().getFullName()).setValue(d.toByteString()));
                    break;
                }
            }
            b.addProcesses(info);
        }
        return b.build();
    }
}
