package io.jcontainerd.runtime.v2;

import com.google.protobuf.Any;
import com.google.protobuf.Empty;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;
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
import io.jcontainerd.api.types.Mount;
import io.jcontainerd.api.v1.types.ProcessInfo;
import io.jcontainerd.errdefs.ContainerdException;
import io.jcontainerd.errdefs.ErrorKind;
import io.jcontainerd.runtime.CreateOpts;
import io.jcontainerd.runtime.Exit;
import io.jcontainerd.runtime.TaskIO;
import io.jcontainerd.ttrpc.RequestContext;
import io.jcontainerd.ttrpc.TtrpcClient;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * One task served by a shim: calls on {@code containerd.task.v2.Task} over the shim's ttrpc connection.
 * An empty exec id means the task's init process. Errors come back as the shim sent them (its gRPC code);
 * a connection the shim closed reads as UNAVAILABLE "ttrpc: closed".
 */
public final class ShimTask {
    static final String SERVICE = "containerd.task.v2.Task";

    private final Bundle bundle;
    private final TtrpcClient client;
    private final ShimLog log;
    private final Map<String, String> metadata;
    /** Set when the daemon itself ends the connection, so its closing is not taken for the shim's death. */
    private volatile boolean released;
    /**
     * The init process's pid once Create or Start reported it (0: not yet known, as for a task restored
     * from a checkpoint before its Start, or one reconnected after a restart): saves a Connect per call.
     */
    private volatile int initPid;

    ShimTask(Bundle bundle, TtrpcClient client, ShimLog log) {
        this.bundle = bundle;
        this.client = client;
        this.log = log;
        this.metadata = Map.of(RequestContext.NAMESPACE_KEY, bundle.namespace());
    }

    public String id() {
        return bundle.id();
    }

    public String namespace() {
        return bundle.namespace();
    }

    public Bundle bundle() {
        return bundle;
    }

    private <T extends Message> T call(String method, Message req, Parser<T> parser, Duration timeout) {
        return client.call(SERVICE, method, req, parser, metadata, timeout);
    }

    private <T extends Message> T call(String method, Message req, Parser<T> parser) {
        return call(method, req, parser, null);
    }

    /** Whether {@code e} says the shim's connection is gone. */
    static boolean isClosed(ContainerdException e) {
        return e.kind() == ErrorKind.UNAVAILABLE && "ttrpc: closed".equals(e.getMessage());
    }

    /** Shim pid and task pid (Connect). */
    public ConnectResponse connect(Duration timeout) {
        return call("Connect", ConnectRequest.newBuilder().setId(id()).build(), ConnectResponse.parser(), timeout);
    }

    /** The init process's pid: as Create or Start reported it, else asked with Connect (as containerd does). */
    public int pid() {
        int pid = initPid;
        if (pid > 0) return pid;
        pid = connect(null).getTaskPid();
        if (pid > 0) initPid = pid;
        return pid;
    }

    int create(CreateOpts opts) {
        CreateTaskRequest.Builder r = CreateTaskRequest.newBuilder().setId(id()).setBundle(bundle.path().toString())
                .setStdin(opts.io().stdin()).setStdout(opts.io().stdout()).setStderr(opts.io().stderr())
                .setTerminal(opts.io().terminal()).setCheckpoint(opts.checkpoint());
        if (opts.shimOptions() != null) r.setOptions(opts.shimOptions());
        for (io.jcontainerd.mount.Mount m : opts.rootfs()) {
            r.addRootfs(Mount.newBuilder().setType(m.type()).setSource(m.source()).setTarget(m.target()).addAllOptions(m.options()));
        }
        int pid = call("Create", r.build(), CreateTaskResponse.parser()).getPid();
        if (pid > 0) initPid = pid;
        return pid;
    }

    /**
     * The state of the init process or an exec. A shim that is gone reads as NOT_FOUND, as in containerd.
     */
    public StateResponse state(String execId, Duration timeout) {
        try {
            return call("State", StateRequest.newBuilder().setId(id()).setExecId(execId).build(), StateResponse.parser(), timeout);
        } catch (ContainerdException e) {
            if (isClosed(e)) throw new ContainerdException(ErrorKind.NOT_FOUND, "not found", e);
            throw e;
        }
    }

    public int start(String execId) {
        int pid = call("Start", StartRequest.newBuilder().setId(id()).setExecId(execId).build(), StartResponse.parser()).getPid();
        if (execId.isEmpty() && pid > 0) initPid = pid;
        return pid;
    }

    /** Signals a process; {@code all} (init only) signals every process in the container. */
    public void kill(String execId, int signal, boolean all) {
        call("Kill", KillRequest.newBuilder().setId(id()).setExecId(execId).setSignal(signal).setAll(all && execId.isEmpty()).build(),
                Empty.parser());
    }

    public void exec(String execId, TaskIO io, Any spec) {
        ExecProcessRequest.Builder r = ExecProcessRequest.newBuilder().setId(id()).setExecId(execId)
                .setStdin(io.stdin()).setStdout(io.stdout()).setStderr(io.stderr()).setTerminal(io.terminal());
        if (spec != null) r.setSpec(spec);
        call("Exec", r.build(), Empty.parser());
    }

    public List<ProcessInfo> pids() {
        return call("Pids", PidsRequest.newBuilder().setId(id()).build(), PidsResponse.parser()).getProcessesList();
    }

    public void pause() {
        call("Pause", PauseRequest.newBuilder().setId(id()).build(), Empty.parser());
    }

    public void resume() {
        call("Resume", ResumeRequest.newBuilder().setId(id()).build(), Empty.parser());
    }

    public void resizePty(String execId, int width, int height) {
        call("ResizePty", ResizePtyRequest.newBuilder().setId(id()).setExecId(execId).setWidth(width).setHeight(height).build(),
                Empty.parser());
    }

    /** Closes the process's stdin. */
    public void closeIO(String execId) {
        call("CloseIO", CloseIORequest.newBuilder().setId(id()).setExecId(execId).setStdin(true).build(), Empty.parser());
    }

    public void update(Any resources, Map<String, String> annotations) {
        UpdateTaskRequest.Builder r = UpdateTaskRequest.newBuilder().setId(id()).putAllAnnotations(annotations);
        if (resources != null) r.setResources(resources);
        call("Update", r.build(), Empty.parser());
    }

    /** The shim's statistics Any (cgroup v1 or v2 metrics), passed through as containerd does. */
    public Any stats() {
        StatsResponse r = call("Stats", StatsRequest.newBuilder().setId(id()).build(), StatsResponse.parser());
        return r.hasStats() ? r.getStats() : null;
    }

    public void checkpoint(String path, Any options) {
        CheckpointTaskRequest.Builder r = CheckpointTaskRequest.newBuilder().setId(id()).setPath(path);
        if (options != null) r.setOptions(options);
        call("Checkpoint", r.build(), Empty.parser());
    }

    /** Waits for a process to exit. For the init process the pid comes from Connect, as containerd does. */
    public Exit await(String execId) {
        int pid = execId.isEmpty() ? pid() : 0;
        WaitResponse r = call("Wait", WaitRequest.newBuilder().setId(id()).setExecId(execId).build(), WaitResponse.parser());
        return new Exit(pid, r.getExitStatus(), r.getExitedAt());
    }

    /** Deletes an exec process (the init process goes through {@link TaskManager#delete}). */
    public Exit deleteProcess(String execId) {
        DeleteResponse r = call("Delete", DeleteRequest.newBuilder().setId(id()).setExecId(execId).build(), DeleteResponse.parser());
        return new Exit(r.getPid(), r.getExitStatus(), r.getExitedAt());
    }

    DeleteResponse deleteInit() {
        return call("Delete", DeleteRequest.newBuilder().setId(id()).build(), DeleteResponse.parser());
    }

    /** Asks the shim to exit once it serves no task; a connection that closes meanwhile is fine. */
    void shutdown(Duration timeout) {
        try {
            call("Shutdown", ShutdownRequest.newBuilder().setId(id()).build(), Empty.parser(), timeout);
        } catch (ContainerdException e) {
            if (!isClosed(e)) throw e;
        }
    }

    /** Ends the daemon's side of the connection without treating it as the shim's death. */
    void release() {
        markReleased();
        client.close();
        if (log != null) log.close();
    }

    /** From now on the connection closing is expected (the daemon is shutting the shim down). */
    void markReleased() {
        released = true;
    }

    boolean released() {
        return released;
    }

    TtrpcClient client() {
        return client;
    }

    void closeLog() {
        if (log != null) log.close();
    }
}
