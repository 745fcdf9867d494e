package io.jcontainerd.shim.task;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import io.jcontainerd.api.events.TaskExit;
import io.jcontainerd.api.runc.v1.CheckpointOptions;
import io.jcontainerd.api.runc.v1.Options;
import io.jcontainerd.api.task.v2.CreateTaskRequest;
import io.jcontainerd.errdefs.ContainerdException;
import io.jcontainerd.errdefs.Errdefs;
import io.jcontainerd.errdefs.ErrorKind;
import io.jcontainerd.mount.Mount;
import io.jcontainerd.mount.Mounts;
import io.jcontainerd.protobuf.Timestamps;
import io.jcontainerd.shim.io.Console;
import io.jcontainerd.shim.io.ProcessIo;
import io.jcontainerd.shim.io.Stdio;
import io.jcontainerd.shim.proc.Exit;
import io.jcontainerd.shim.proc.Processes;
import io.jcontainerd.shim.runc.Runc;
import io.jcontainerd.shim.sys.Posix;
import io.jcontainerd.shim.util.Json;
import io.jcontainerd.shim.util.Log;
import io.jcontainerd.sys.ErrnoException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One container served by the shim: its bundle, rootfs mounts, runc, the init process and the exec
 * processes, with the state rules (and error messages) of containerd's runc shim.
 */
final class Container {
    static final String OPTIONS_TYPE = "containerd.runc.v1.Options";
    static final String CHECKPOINT_OPTIONS_TYPE = "containerd.runc.v1.CheckpointOptions";

    final String id;
    final String namespace;
    final Path bundle;
    final Runc runc;
    final Options options;
    final TaskService service;
    final InitProcess init;
    final Path rootfs; // null when the request brought no mounts
    final boolean killAllOnExit;
    /**
     * Held while a start of this container's init or exec is run and announced, and while an exit of one
     * of its processes is announced, so that a process's start is always published before its exit. Per
     * container, not per shim: a shim serving a group must not run one container's {@code runc start}
     * after another's (50 concurrent Starts in one namespace's shim queued on one lock).
     */
    final ReentrantLock eventLock = new ReentrantLock();
    private final Map<String, ExecProcess> execs = new ConcurrentHashMap<>();
    private final Map<String, Boolean> reserved = new ConcurrentHashMap<>();

    private Container(TaskService service, String namespace, CreateTaskRequest r, Options options, Path rootfs) {
        this.service = service;
        this.id = r.getId();
        this.namespace = namespace;
        this.bundle = Path.of(r.getBundle());
        this.options = options;
        this.rootfs = rootfs;
        this.runc = Runc.of(options.getBinaryName(), options.getRoot(), namespace, bundle, options.getCriuPath(),
                options.getSystemdCgroup());
        this.init = new InitProcess(id, new Stdio(r.getStdin(), r.getStdout(), r.getStderr(), r.getTerminal()),
                r.getCheckpoint(), r.getParentCheckpoint());
        this.killAllOnExit = shouldKillAllOnExit(bundle);
    }

    // ---- create ----

    static Container create(TaskService service, String namespace, CreateTaskRequest r) throws Exception {
        Options opts = parseOptions(r.getOptions());
        Path bundle = Path.of(r.getBundle());
        writeOptions(bundle, opts);
        Files.writeString(bundle.resolve("runtime"), opts.getBinaryName());
        Path rootfs = null;
        if (r.getRootfsCount() > 0) {
            rootfs = bundle.resolve("rootfs");
            try {
                Files.createDirectory(rootfs, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx--x--x")));
            } catch (FileAlreadyExistsException exists) {
                // the bundle may come with the directory
            }
        }
        try {
            if (rootfs != null) {
                for (var m : r.getRootfsList()) {
                    try {
                        Mounts.mount(new Mount(m.getType(), m.getSource(), "", m.getOptionsList()), rootfs);
                    } catch (IOException | RuntimeException e) {
                        throw new ContainerdException(Errdefs.kindOf(e), "failed to mount rootfs component &{" + m.getType()
                                + " " + m.getSource() + " " + m.getOptionsList() + "}: " + e.getMessage(), e);
                    }
                }
            }
            Container c = new Container(service, namespace, r, opts, rootfs);
            if (c.init.checkpoint.isEmpty()) {
                c.createInit();
                // the cgroup exists from create on; watching before start misses no early OOM kill
                OomWatcher.watch(c, c.init.pid);
            }
            return c;
        } catch (Exception e) {
            if (rootfs != null) unmountQuietly(rootfs);
            throw e;
        }
    }

    static Options parseOptions(Any any) throws InvalidProtocolBufferException {
        if (any == null || any.getTypeUrl().isEmpty()) return Options.getDefaultInstance();
        if (!any.getTypeUrl().endsWith(OPTIONS_TYPE)) {
            throw Errdefs.invalidArgument("unsupported runtime options type %s", any.getTypeUrl());
        }
        return Options.parseFrom(any.getValue());
    }

    /** options.json as containerd's shim writes it (Go JSON of the options, empty fields omitted). */
    static void writeOptions(Path bundle, Options o) throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        if (o.getNoPivotRoot()) m.put("no_pivot_root", true);
        if (o.getNoNewKeyring()) m.put("no_new_keyring", true);
        if (!o.getShimCgroup().isEmpty()) m.put("shim_cgroup", o.getShimCgroup());
        if (o.getIoUid() != 0) m.put("io_uid", o.getIoUid());
        if (o.getIoGid() != 0) m.put("io_gid", o.getIoGid());
        if (!o.getBinaryName().isEmpty()) m.put("binary_name", o.getBinaryName());
        if (!o.getRoot().isEmpty()) m.put("root", o.getRoot());
        if (!o.getCriuPath().isEmpty()) m.put("criu_path", o.getCriuPath());
        if (o.getSystemdCgroup()) m.put("systemd_cgroup", true);
        if (!o.getCriuImagePath().isEmpty()) m.put("criu_image_path", o.getCriuImagePath());
        if (!o.getCriuWorkPath().isEmpty()) m.put("criu_work_path", o.getCriuWorkPath());
        Path f = bundle.resolve("options.json");
        Files.writeString(f, Json.write(m));
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
    }

    /** Without a private pid namespace the kernel does not kill the rest when init dies: the shim must. */
    static boolean shouldKillAllOnExit(Path bundle) {
        try {
            Object nss = Json.path(Json.parse(Files.readString(bundle.resolve("config.json"))), "linux", "namespaces");
            if (nss instanceof List<?> l) {
                for (Object o : l) {
                    if (o instanceof Map<?, ?> ns && "pid".equals(ns.get("type"))) {
                        Object p = ns.get("path");
                        if (p == null || "".equals(p)) return false;
                    }
                }
            }
            return true;
        } catch (IOException | IllegalArgumentException e) {
            Log.warn("shouldKillAllOnExit: failed to read config.json", e);
            return true;
        }
    }

    private Path initPidFile() {
        return bundle.resolve("init.pid");
    }

    /** runc create (or restore), then stdio copying, the pid, and the exit watch. */
    private void createInit() throws Exception {
        runProcess(init, (fds, consoleSocket) ->
                runc.create(id, initPidFile(), consoleSocket, options.getNoPivotRoot(), options.getNoNewKeyring(), fds),
                initPidFile());
    }

    @FunctionalInterface
    private interface RuncStep {
        void run(int[] fds, String consoleSocket) throws IOException;
    }

    /** The common create/exec/restore sequence: stdio, runc, console or copying, pid file, exit watch. */
    private void runProcess(Proc p, RuncStep step, Path pidFile) throws Exception {
        Console.Socket socket = p.stdio.terminal() ? Console.Socket.create() : null;
        try {
            ProcessIo io = p.stdio.terminal() ? null : ProcessIo.create(p.id, namespace, p.stdio, options.getIoUid(), options.getIoGid());
            p.io = io;
            try {
                step.run(io == null ? null : io.runcFds(), socket == null ? null : socket.path());
            } catch (Exception e) {
                if (io != null) io.close();
                p.io = null;
                throw e;
            }
            if (io != null) {
                io.closeAfterStart();
                io.startCopy();
            } else {
                int master = socket.receiveMaster();
                p.console = Console.start(master, p.id, namespace, p.stdio);
            }
            int pid = readPid(pidFile);
            p.pid = pid;
            watchExit(p, Processes.get().claim(pid));
        } finally {
            if (socket != null) socket.close();
        }
    }

    static int readPid(Path pidFile) throws IOException {
        String s = Files.readString(pidFile, StandardCharsets.UTF_8).strip();
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            throw new IOException("failed to retrieve OCI runtime container pid: bad pid file " + pidFile + ": " + s);
        }
    }

    private void watchExit(Proc p, CompletableFuture<Exit> exit) {
        exit.thenAcceptAsync(e -> onExit(p, e), r -> Thread.ofVirtual().name("exit-" + p.id).start(r));
    }

    /** The exit of init or an exec: kill what init leaves behind, drain output, record, publish TaskExit. */
    private void onExit(Proc p, Exit e) {
        if (p instanceof InitProcess && killAllOnExit) {
            try {
                runc.kill(id, Posix.SIGKILL, true);
            } catch (IOException ex) {
                Log.debug("kill all after init exit of " + id + ": " + ex.getMessage());
            }
        }
        p.drainOutput();
        eventLock.lock();
        try {
            Proc.State before = p.state;
            if (!p.setExited(e)) return;
            if (before == Proc.State.PAUSED) {
                try {
                    runc.resume(id);
                } catch (IOException ex) {
                    Log.warn("resume after exit of paused " + id, ex);
                }
            }
            service.publish(namespace, "/tasks/exit", TaskExit.newBuilder()
                    .setContainerId(id).setId(p.id).setPid(e.pid()).setExitStatus(e.status())
                    .setExitedAt(Timestamps.of(e.at())).build());
        } finally {
            p.exitPublished.complete(null);
            eventLock.unlock();
        }
    }

    // ---- processes ----

    Proc process(String execId) {
        if (execId == null || execId.isEmpty()) return init;
        ExecProcess e = execs.get(execId);
        if (e == null) throw Errdefs.notFound("process does not exist %s: not found", execId);
        return e;
    }

    Collection<ExecProcess> execs() {
        return execs.values();
    }

    // ---- operations ----

    /** Start of init (runc start, or restore of a checkpoint) or of an exec; returns the pid. */
    int start(String execId) throws Exception {
        Proc p = process(execId);
        if (p instanceof ExecProcess e) return startExec(e);
        synchronized (init) {
            switch (init.state) {
                case CREATED -> {
                    if (init.checkpoint.isEmpty()) {
                        runc.start(id);
                    } else {
                        restore();
                    }
                    init.state = Proc.State.RUNNING;
                }
                case RUNNING -> throw Proc.unknown("cannot start a running process");
                case PAUSED -> throw Proc.unknown("cannot start a paused process");
                case STOPPED -> throw Proc.unknown("cannot start a stopped process");
                case DELETED -> throw Proc.unknown("cannot start a deleted process");
            }
            return init.pid;
        }
    }

    private void restore() throws Exception {
        String work = options.getCriuWorkPath().isEmpty() ? bundle.resolve("work").toString() : options.getCriuWorkPath();
        runProcess(init, (fds, consoleSocket) -> runc.restore(id, initPidFile(), init.checkpoint, work,
                init.parentCheckpoint, consoleSocket, options.getNoPivotRoot(), fds), initPidFile());
        OomWatcher.watch(this, init.pid);
    }

    private int startExec(ExecProcess e) throws Exception {
        synchronized (e) {
            switch (e.state) {
                case CREATED -> { }
                case RUNNING -> throw Proc.unknown("cannot start a running process");
                case STOPPED -> throw Proc.unknown("cannot start a stopped process");
                default -> throw Proc.unknown("cannot start a deleted process");
            }
            Path pidFile = bundle.resolve(e.id + ".pid");
            Path spec = Files.createTempFile(bundle, ".exec-" + e.id + "-", ".json");
            try {
                Files.writeString(spec, Json.write(e.spec));
                runProcess(e, (fds, consoleSocket) -> runc.exec(id, spec, pidFile, consoleSocket, fds), pidFile);
            } catch (Exception ex) {
                // as containerd: a failed start releases whoever waits on the process
                e.exited.complete(null);
                throw ex;
            } finally {
                Files.deleteIfExists(spec);
            }
            e.state = Proc.State.RUNNING;
            return e.pid;
        }
    }

    /** Exec: registers (does not start) a process; AlreadyExists for a used id. */
    ExecProcess exec(String execId, Stdio stdio, Any spec) {
        // the id is held from here until the process is registered, so two Execs cannot both take it
        if (execs.containsKey(execId) || reserved.putIfAbsent(execId, Boolean.TRUE) != null) {
            throw Errdefs.alreadyExists("id %s: already exists", execId);
        }
        try {
            synchronized (init) {
                switch (init.state) {
                    case CREATED, RUNNING -> { }
                    case PAUSED -> throw Proc.unknown("cannot exec in a paused state");
                    case STOPPED -> throw Proc.unknown("cannot exec in a stopped state");
                    case DELETED -> throw Proc.unknown("cannot exec in a deleted state");
                }
            }
            Map<String, Object> processSpec;
            try {
                processSpec = Json.parseObject(spec.getValue().toStringUtf8());
            } catch (IllegalArgumentException e) {
                throw Proc.unknown(e.getMessage());
            }
            processSpec.put("terminal", stdio.terminal());
            ExecProcess e = new ExecProcess(execId, stdio, init, processSpec);
            execs.put(execId, e);
            return e;
        } finally {
            reserved.remove(execId);
        }
    }

    /** Delete of init or an exec; returns the process for the response. */
    Proc delete(String execId) throws Exception {
        Proc p = process(execId);
        if (p instanceof ExecProcess e) {
            synchronized (e) {
                switch (e.state) {
                    case RUNNING -> throw Proc.unknown("cannot delete a running process");
                    case DELETED -> throw Errdefs.notFound("cannot delete a deleted process: not found");
                    default -> { }
                }
                // a stopped process's output was drained when it exited; a created one wrote nothing
                e.closeIo();
                Files.deleteIfExists(bundle.resolve(e.id + ".pid"));
                e.state = Proc.State.DELETED;
                execs.remove(e.id);
            }
            return e;
        }
        boolean wasCreated;
        synchronized (init) {
            switch (init.state) {
                case RUNNING -> throw Proc.unknown("cannot delete a running process");
                case PAUSED -> throw Proc.unknown("cannot delete a paused process");
                case DELETED -> throw Errdefs.notFound("cannot delete a deleted process: not found");
                default -> { }
            }
            wasCreated = init.state == Proc.State.CREATED;
            IOException failure = null;
            try {
                runc.delete(id, false);
            } catch (Runc.RuncException ex) {
                if (!ex.getMessage().contains("does not exist")) {
                    String msg = runc.lastRuntimeError();
                    failure = new IOException("failed to delete task: " + (msg == null || msg.isEmpty() ? ex.getMessage() : msg), ex);
                }
            }
            init.closeIo();
            if (rootfs != null) {
                try {
                    Mounts.unmountAll(rootfs, 0);
                } catch (IOException ex) {
                    Log.warn("failed to cleanup rootfs mount", ex);
                    if (failure == null) failure = new IOException("failed rootfs umount: " + ex.getMessage(), ex);
                }
            }
            if (failure != null) throw failure;
            init.state = Proc.State.DELETED;
        }
        // deleting a created container kills its init: report that exit before the delete
        if (wasCreated && init.pid > 0) init.awaitExitPublished(2000);
        return init;
    }

    void kill(String execId, int signal, boolean all) throws IOException {
        Proc p = process(execId);
        if (p instanceof ExecProcess e) {
            synchronized (e) {
                if (e.state == Proc.State.DELETED) throw Errdefs.notFound("cannot kill a deleted process: not found");
                if (e.pid == 0) throw Errdefs.failedPrecondition("process not created: failed precondition");
                if (e.exited.isDone()) throw Errdefs.notFound("process already finished: not found");
                try {
                    Posix.kill(e.pid, signal);
                } catch (ErrnoException ex) {
                    if (ex.errno() == Posix.ESRCH) throw Errdefs.notFound("exec kill error: process already finished: not found");
                    throw Proc.unknown("exec kill error: unknown error after kill: " + ex.getMessage());
                }
            }
            return;
        }
        synchronized (init) {
            if (init.state == Proc.State.DELETED) throw Errdefs.notFound("cannot kill a deleted process: not found");
            try {
                runc.kill(id, signal, all);
            } catch (Runc.RuncException ex) {
                String m = ex.getMessage();
                if (m.contains("os: process already finished") || m.contains("container not running")
                        || m.toLowerCase().contains("no such process")) {
                    throw Errdefs.notFound("process already finished: not found");
                }
                if (m.contains("does not exist")) throw Errdefs.notFound("no such container: not found");
                throw Proc.unknown("unknown error after kill: " + m);
            }
        }
    }

    void pause() throws IOException {
        synchronized (init) {
            switch (init.state) {
                case RUNNING -> { }
                case CREATED -> throw Proc.unknown("cannot pause task in created state");
                case PAUSED -> throw Proc.unknown("cannot pause a paused container");
                case STOPPED -> throw Proc.unknown("cannot pause a stopped container");
                case DELETED -> throw Proc.unknown("cannot pause a deleted process");
            }
            init.pausing = true;
            try {
                runc.pause(id);
            } finally {
                init.pausing = false;
            }
            init.state = Proc.State.PAUSED;
        }
    }

    void resume() throws IOException {
        synchronized (init) {
            switch (init.state) {
                case PAUSED -> { }
                case CREATED -> throw Proc.unknown("cannot resume task in created state");
                case RUNNING -> throw Proc.unknown("cannot resume a running process");
                case STOPPED -> throw Proc.unknown("cannot resume a stopped container");
                case DELETED -> throw Proc.unknown("cannot resume a deleted process");
            }
            runc.resume(id);
            init.state = Proc.State.RUNNING;
        }
    }

    void update(Any resources) throws IOException {
        synchronized (init) {
            switch (init.state) {
                case STOPPED -> throw Proc.unknown("cannot update a stopped container");
                case DELETED -> throw Proc.unknown("cannot update a deleted process");
                default -> { }
            }
            Path f = Files.createTempFile(bundle, ".resources-", ".json");
            try {
                Files.write(f, resources.getValue().toByteArray());
                runc.update(id, f);
            } finally {
                Files.deleteIfExists(f);
            }
        }
    }

    void checkpoint(String path, Any opts) throws IOException {
        CheckpointOptions o = CheckpointOptions.getDefaultInstance();
        if (opts != null && !opts.getTypeUrl().isEmpty()) {
            if (!opts.getTypeUrl().endsWith(CHECKPOINT_OPTIONS_TYPE)) {
                throw Errdefs.invalidArgument("unsupported checkpoint options type %s", opts.getTypeUrl());
            }
            o = CheckpointOptions.parseFrom(opts.getValue());
        }
        if (options.getCriuPath().isEmpty() && !onPath("criu")) {
            throw Errdefs.failedPrecondition("checkpoint requires criu, which is not installed");
        }
        synchronized (init) {
            switch (init.state) {
                case RUNNING, PAUSED -> { }
                case CREATED -> throw Proc.unknown("cannot checkpoint a task in created state");
                case STOPPED -> throw Proc.unknown("cannot checkpoint a stopped container");
                case DELETED -> throw Proc.unknown("cannot checkpoint a deleted process");
            }
            List<String> flags = new ArrayList<>();
            if (!o.getExit()) flags.add("--leave-running");
            if (o.getOpenTcp()) flags.add("--tcp-established");
            if (o.getExternalUnixSockets()) flags.add("--ext-unix-sk");
            if (o.getTerminal()) flags.add("--shell-job");
            if (o.getFileLocks()) flags.add("--file-locks");
            for (String ns : o.getEmptyNamespacesList()) flags.addAll(List.of("--empty-ns", ns));
            boolean tempWork = o.getWorkPath().isEmpty();
            Path work = tempWork ? bundle.resolve("work").resolve("criu-work") : Path.of(o.getWorkPath());
            try {
                runc.checkpoint(id, path, work.toString(), flags);
            } catch (Runc.RuncException ex) {
                Path dumpLog = bundle.resolve("criu-dump.log");
                try {
                    Files.copy(work.resolve("dump.log"), dumpLog, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                } catch (IOException copy) {
                    Log.warn("failed to copy dump.log to criu-dump.log", copy);
                }
                throw Proc.unknown(ex.getMessage().lines().findFirst().orElse("") + " path= " + dumpLog);
            } finally {
                if (tempWork) deleteTree(work);
            }
        }
    }

    private static boolean onPath(String exe) {
        String path = System.getenv("PATH");
        if (path == null) return false;
        for (String dir : path.split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, exe))) return true;
        }
        return false;
    }

    static void deleteTree(Path dir) {
        if (!Files.exists(dir)) return;
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (IOException e) {
            Log.warn("cannot remove " + dir, e);
        }
    }

    static void unmountQuietly(Path rootfs) {
        try {
            Mounts.unmountAll(rootfs, 0);
        } catch (IOException e) {
            Log.warn("failed to cleanup rootfs mount", e);
        }
    }

    List<Integer> pids() throws IOException {
        return runc.ps(id);
    }

    /** Whether this container is done with: its init deleted. */
    boolean deleted() {
        return init.state == Proc.State.DELETED;
    }

    static ContainerdException notCreated() {
        return new ContainerdException(ErrorKind.NOT_FOUND, "container not created: not found");
    }
}
