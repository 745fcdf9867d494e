package io.jcontainerd.runtime.v2;

import io.jcontainerd.api.events.TaskDelete;
import io.jcontainerd.api.events.TaskExit;
import io.jcontainerd.api.task.v2.DeleteResponse;
import io.jcontainerd.errdefs.ContainerdException;
import io.jcontainerd.errdefs.Errdefs;
import io.jcontainerd.errdefs.ErrorKind;
import io.jcontainerd.events.Publisher;
import io.jcontainerd.mount.Mounts;
import io.jcontainerd.protobuf.Timestamps;
import io.jcontainerd.runtime.CreateOpts;
import io.jcontainerd.runtime.Exit;
import io.jcontainerd.runtime.Timeouts;
import io.jcontainerd.ttrpc.TtrpcClient;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * containerd's runtime v2 task manager ({@code io.containerd.runtime.v2.task}): a shim process per task or
 * per group of tasks, started with the runtime v2 {@code start} protocol (jcontainerd's own shim: by
 * {@link ShimLauncher}) and driven over ttrpc, one connection per task. It keeps the live tasks, notices a
 * connection that drops (a dead shim: each of its tasks is reported exited and cleaned up with
 * {@code shim delete}), and on boot reconnects to the shims of an earlier daemon from their bundles.
 */
public final class TaskManager implements AutoCloseable {
    private static final Logger LOG = System.getLogger(TaskManager.class.getName());

    /** Where a task's runtime name comes from when its bundle does not record one: the container record. */
    @FunctionalInterface
    public interface RuntimeNames {
        /** The runtime name of container {@code id} in {@code namespace}; NOT_FOUND if there is none. */
        String runtimeOf(String namespace, String id);
    }

    private record Key(String namespace, String id) {}

    private final Path root;
    private final Path state;
    private final String address;
    private final String ttrpcAddress;
    private final String publishBinary;
    private final boolean debug;
    private final RuntimeConfig config;
    private final Timeouts timeouts;
    private final Publisher events;
    private final RuntimeNames runtimeNames;
    private final Clock clock;
    private final PrintStream shimLogs;
    private final Map<Key, ShimTask> tasks = new ConcurrentHashMap<>();
    private final Map<String, Path> runtimePaths = new ConcurrentHashMap<>();
    private final ShimLauncher launcher = new ShimLauncher(RuntimeConfig.builtinShim());
    private volatile boolean closing;

    public TaskManager(Path root, Path state, String address, String ttrpcAddress, String publishBinary, boolean debug,
                       RuntimeConfig config, Timeouts timeouts, Publisher events, RuntimeNames runtimeNames, Clock clock, PrintStream shimLogs)
            throws IOException {
        this.root = root;
        this.state = state;
        this.address = address;
        this.ttrpcAddress = ttrpcAddress;
        this.publishBinary = publishBinary;
        this.debug = debug;
        this.config = config;
        this.timeouts = timeouts;
        this.events = events;
        this.runtimeNames = runtimeNames;
        this.clock = clock;
        this.shimLogs = shimLogs;
        for (Path d : List.of(root, state)) {
            Files.createDirectories(d);
            Files.setPosixFilePermissions(d, java.nio.file.attribute.PosixFilePermissions.fromString("rwx--x--x"));
        }
    }

    // ---- creating, finding and deleting tasks ----

    /**
     * Makes the bundle, starts a shim for it and creates the task in it. On failure everything made is
     * undone (the shim asked to delete the task and shut down, the bundle removed).
     */
    public ShimTask create(String namespace, String id, CreateOpts opts) throws IOException {
        Key key = new Key(namespace, id);
        if (tasks.containsKey(key)) throw Errdefs.alreadyExists("task %s: already exists", id);
        Bundle bundle = Bundle.create(root, state, namespace, id, opts.spec().getValue().toByteArray());
        for (boolean fresh = false; ; fresh = true) {
            Started started;
            try {
                started = startShim(bundle, opts, fresh);
            } catch (IOException | RuntimeException e) {
                deleteBundle(bundle);
                throw wrap("failed to start shim: start failed: ", e);
            }
            ShimTask task = started.task();
            if (tasks.putIfAbsent(key, task) != null) {
                discard(task);
                throw Errdefs.alreadyExists("task %s: already exists", id);
            }
            try {
                task.create(opts);
                return task;
            } catch (RuntimeException e) {
                tasks.remove(key, task);
                if (!fresh && started.reused() && e instanceof ContainerdException c
                        && (ShimTask.isClosed(c) || c.kind() == ErrorKind.UNAVAILABLE)) {
                    // the group's shim was on its way out (idle, or its last container just deleted): a new one
                    LOG.log(Level.DEBUG, "shim of group exiting, starting a new one for {0}: {1}", id, e.getMessage());
                    task.release();
                    continue;
                }
                try {
                    task.deleteInit();
                } catch (RuntimeException ignored) {
                    // nothing was created, or the shim is gone
                }
                discard(task);
                throw wrap("failed to create shim task: ", e);
            }
        }
    }

    /** A connected shim task; {@code reused}: its shim already served others of its group. */
    private record Started(ShimTask task, boolean reused) {}

    /**
     * The task's shim: jcontainerd's own shim is started (or found, for its group) by the daemon, any other
     * through the runtime v2 {@code start} command.
     */
    private Started startShim(Bundle bundle, CreateOpts opts, boolean fresh) throws IOException {
        Path runtime = resolveRuntimePath(opts.runtime());
        ShimBinary binary = binary(runtime);
        ShimLog[] log = {null};
        TtrpcClient client = null;
        try {
            String shimAddress;
            boolean reused = false;
            if (launcher.isBuiltin(runtime)) {
                // a reused shim keeps logging to the bundle it was started in: no FIFO and copier for this one
                ShimLauncher.Started s = launcher.start(binary, bundle, settings(opts.runtime(), runtime), opts.shimOptions(),
                        opts.spec().getValue().toByteArray(), fresh, () -> log[0] = ShimLog.open(bundle.path(), shimLogs));
                shimAddress = s.address();
                client = s.client();
                reused = s.reused();
            } else {
                log[0] = ShimLog.open(bundle.path(), shimLogs);
                shimAddress = binary.start(bundle, opts.shimOptions());
            }
            // 1.6 shims write "address" themselves (for ours started here, the daemon does); newer daemons
            // record bootstrap.json; keep both
            if (!Files.exists(bundle.file("address"))) Files.writeString(bundle.file("address"), shimAddress);
            Files.writeString(bundle.file("bootstrap.json"),
                    "{\"version\":2,\"address\":\"" + shimAddress.replace("\\", "\\\\").replace("\"", "\\\"") + "\",\"protocol\":\"ttrpc\"}");
            Files.writeString(bundle.file("shim-binary-path"), runtime.toString());
            if (client == null) client = TtrpcClient.connect(ShimBinary.socketPath(shimAddress));
            ShimTask task = new ShimTask(bundle, client, log[0]);
            watch(task, binary);
            return new Started(task, reused);
        } catch (IOException | RuntimeException e) {
            if (client != null) client.close();
            if (log[0] != null) log[0].close();
            throw e;
        }
    }

    /** The built-in shim's settings for a runtime name; a runtime given as a path gets the defaults. */
    private RuntimeConfig.Runtime settings(String name, Path runtime) {
        RuntimeConfig.Runtime r = config.runtimes().get(name);
        return r != null ? r : new RuntimeConfig.Runtime(runtime.toString(), "", java.time.Duration.ZERO);
    }

    /** The {@code [timeouts]} the runtime works with (task.state is for callers asking a task's state). */
    public Timeouts timeouts() {
        return timeouts;
    }

    /** The live task {@code id} of {@code namespace}, if any. */
    public Optional<ShimTask> get(String namespace, String id) {
        return Optional.ofNullable(tasks.get(new Key(namespace, id)));
    }

    /** The live tasks of {@code namespace} (every namespace when null), by id. */
    public List<ShimTask> tasks(String namespace) {
        return tasks.values().stream()
                .filter(t -> namespace == null || t.namespace().equals(namespace))
                .sorted(Comparator.comparing(ShimTask::namespace).thenComparing(ShimTask::id))
                .toList();
    }

    /**
     * Deletes the task's init process in its shim, shuts the shim down and removes the bundle. The exit is
     * what the shim reports.
     */
    public Exit delete(String namespace, String id) {
        Key key = new Key(namespace, id);
        ShimTask task = tasks.get(key);
        if (task == null) throw Errdefs.notFound("task %s: not found", id);
        DeleteResponse response = null;
        ContainerdException shimErr = null;
        try {
            response = task.deleteInit();
        } catch (ContainerdException e) {
            if (!ShimTask.isClosed(e) && e.kind() != ErrorKind.NOT_FOUND) {
                throw new ContainerdException(e.kind(), "failed to delete task: " + e.getMessage(), e);
            }
            shimErr = e;
        }
        tasks.remove(key, task);
        discard(task);
        if (shimErr != null) throw new ContainerdException(shimErr.kind(), "failed to delete task: " + shimErr.getMessage(), shimErr);
        return new Exit(response.getPid(), response.getExitStatus(), response.getExitedAt());
    }

    /** Shuts a shim down and removes its bundle; failures are logged. */
    private void discard(ShimTask task) {
        task.markReleased();
        try {
            task.shutdown(timeouts.shimShutdown());
        } catch (RuntimeException e) {
            LOG.log(Level.ERROR, "failed to shutdown shim task " + task.id() + ": " + e.getMessage());
        }
        task.release();
        deleteBundle(task.bundle());
    }

    private static void deleteBundle(Bundle b) {
        try {
            b.delete();
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.ERROR, "failed to delete bundle " + b.path() + ": " + e.getMessage());
        }
    }

    private static ContainerdException wrap(String prefix, Exception e) {
        ErrorKind kind = e instanceof ContainerdException c ? c.kind() : ErrorKind.UNKNOWN;
        return new ContainerdException(kind, prefix + e.getMessage(), e);
    }

    // ---- dead shims ----

    private ShimBinary binary(Path runtime) {
        return new ShimBinary(runtime, address, ttrpcAddress, publishBinary, debug, config.schedCore(), timeouts.shimCleanup());
    }

    /** When the shim's connection drops without the daemon having asked for it, the shim is dead. */
    private void watch(ShimTask task, ShimBinary binary) {
        task.client().whenClosed().thenRun(() -> {
            if (task.released() || closing) return;
            LOG.log(Level.INFO, "shim disconnected id={0}", task.id());
            Thread.ofVirtual().name("shim-cleanup").start(() -> cleanupAfterDeadShim(task.bundle(), binary, task));
        });
    }

    /**
     * containerd's cleanupAfterDeadShim: {@code shim delete} (which kills and deletes the container with the
     * runtime and unmounts its rootfs), the bundle removed, and the task's exit and deletion published
     * (status 255 when the shim could not say). {@code task} is the listed task, or null when loading.
     */
    private void cleanupAfterDeadShim(Bundle bundle, ShimBinary binary, ShimTask task) {
        LOG.log(Level.WARNING, "cleaning up after shim disconnected id={0} namespace={1}", bundle.id(), bundle.namespace());
        if (task != null) task.closeLog();
        Exit exit = null;
        try {
            exit = binary.delete(bundle);
            bundle.delete();
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.WARNING, "failed to clean up after shim disconnected id=" + bundle.id() + " namespace="
                    + bundle.namespace() + ": " + e.getMessage());
        }
        if (task != null && !tasks.remove(new Key(bundle.namespace(), bundle.id()), task)) return; // deleted meanwhile
        if (exit == null) exit = new Exit(0, 255, Timestamps.of(clock.instant()));
        events.publish(bundle.namespace(), "/tasks/exit", TaskExit.newBuilder().setContainerId(bundle.id()).setId(bundle.id())
                .setPid(exit.pid()).setExitStatus(exit.status()).setExitedAt(exit.exitedAt()).build());
        events.publish(bundle.namespace(), "/tasks/delete", TaskDelete.newBuilder().setContainerId(bundle.id())
                .setPid(exit.pid()).setExitStatus(exit.status()).setExitedAt(exit.exitedAt()).build());
    }

    // ---- restart recovery ----

    /**
     * Loads the bundles an earlier daemon left: live shims are reconnected, dead ones cleaned up with their
     * exit published; empty or unusable bundles and orphaned work directories are removed.
     */
    public void loadExisting() throws IOException {
        for (Path nsDir : dirs(state)) {
            String ns = nsDir.getFileName().toString();
            LOG.log(Level.DEBUG, "loading tasks in namespace {0}", ns);
            try {
                for (Path dir : dirs(nsDir)) loadShim(Bundle.load(state, ns, dir.getFileName().toString()));
                cleanupWorkDirs(ns);
            } catch (IOException | RuntimeException e) {
                LOG.log(Level.ERROR, "loading tasks in namespace " + ns + ": " + e.getMessage());
            }
        }
    }

    private void loadShim(Bundle bundle) throws IOException {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(bundle.path())) {
            if (!entries.iterator().hasNext()) {
                deleteBundle(bundle);
                return;
            }
        }
        String runtime = "";
        try {
            runtime = Files.readString(bundle.file("shim-binary-path")).trim();
        } catch (NoSuchFileException e) {
            // older bundles: the container record names the runtime
        }
        if (runtime.isEmpty()) {
            try {
                runtime = runtimeNames.runtimeOf(bundle.namespace(), bundle.id());
            } catch (RuntimeException e) {
                LOG.log(Level.ERROR, "loading container " + bundle.id() + ": " + e.getMessage());
                try {
                    Mounts.unmountAll(bundle.rootfs(), 0);
                } catch (IOException ue) {
                    LOG.log(Level.ERROR, "failed to unmount rootfs of " + bundle.id() + ": " + ue.getMessage());
                }
                deleteBundle(bundle);
                return;
            }
        }
        Path runtimePath;
        try {
            runtimePath = resolveRuntimePath(runtime);
        } catch (RuntimeException e) {
            LOG.log(Level.ERROR, "failed to resolve runtime path: " + e.getMessage());
            deleteBundle(bundle);
            return;
        }
        ShimBinary binary = binary(runtimePath);
        ShimTask task = null;
        try {
            String shimAddress = readAddress(bundle);
            TtrpcClient client = TtrpcClient.connect(ShimBinary.socketPath(shimAddress));
            ShimLog log;
            try {
                log = ShimLog.open(bundle.path(), shimLogs);
            } catch (IOException e) {
                client.close();
                throw e;
            }
            task = new ShimTask(bundle, client, log);
            task.connect(timeouts.shimLoad());
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.WARNING, "shim of task " + bundle.id() + " is gone: " + e.getMessage());
            if (task != null) task.release();
            cleanupAfterDeadShim(bundle, binary, null);
            return;
        }
        tasks.put(new Key(bundle.namespace(), bundle.id()), task);
        watch(task, binary);
    }

    /** The shim address recorded in the bundle: bootstrap.json, else the older "address" file. */
    static String readAddress(Bundle bundle) throws IOException {
        Path bootstrap = bundle.file("bootstrap.json");
        if (Files.exists(bootstrap)) return ShimBinary.parseAddress(Files.readString(bootstrap).trim());
        return Files.readString(bundle.file("address"), StandardCharsets.UTF_8).trim();
    }

    private void cleanupWorkDirs(String ns) throws IOException {
        for (Path d : dirs(root.resolve(ns))) {
            if (!tasks.containsKey(new Key(ns, d.getFileName().toString()))) Bundle.deleteTree(d);
        }
    }

    private static List<Path> dirs(Path parent) throws IOException {
        List<Path> out = new ArrayList<>();
        if (!Files.isDirectory(parent)) return out;
        try (DirectoryStream<Path> s = Files.newDirectoryStream(parent)) {
            for (Path p : s) {
                if (Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS) && !p.getFileName().toString().startsWith(".")) {
                    out.add(p);
                }
            }
        }
        return out;
    }

    // ---- shim binaries ----

    /**
     * The shim executable for a runtime: an absolute path as given; a {@code runtimes."<name>".shim_binary}
     * entry (absolute, or looked up on PATH); else containerd's rule, {@code io.containerd.runc.v2} →
     * {@code containerd-shim-runc-v2} on PATH.
     */
    public Path resolveRuntimePath(String runtime) {
        if (runtime == null || runtime.isEmpty()) throw Errdefs.invalidArgument("no runtime name");
        if (runtime.startsWith("/")) {
            if (!Files.exists(Path.of(runtime))) {
                throw Errdefs.notFound("invalid custom binary path: stat %s: no such file or directory", runtime);
            }
            return Path.of(runtime);
        }
        return runtimePaths.computeIfAbsent(runtime, r -> {
            RuntimeConfig.Runtime configured = config.runtimes().get(r);
            String name = configured != null && configured.shimBinary() != null && !configured.shimBinary().isEmpty()
                    ? configured.shimBinary() : binaryName(r);
            if (name == null) {
                throw Errdefs.invalidArgument("invalid runtime name %s, correct runtime name should be either format like "
                        + "`io.containerd.runc.v1` or a full path to the binary", r);
            }
            if (name.startsWith("/")) {
                if (!Files.isExecutable(Path.of(name))) throw Errdefs.notFound("runtime %s: shim binary %s not found", r, name);
                return Path.of(name);
            }
            return lookPath(name).orElseThrow(() ->
                    Errdefs.notFound("runtime \"%s\" binary not installed \"%s\": file does not exist", r, name));
        });
    }

    /** containerd's shim binary name: the last two dot-separated parts, {@code containerd-shim-<name>-<version>}. */
    static String binaryName(String runtime) {
        String[] parts = runtime.split("\\.");
        if (parts.length < 2) return null;
        return "containerd-shim-" + parts[parts.length - 2] + "-" + parts[parts.length - 1];
    }

    static Optional<Path> lookPath(String name) {
        if (name.contains("/")) {
            Path p = Path.of(name).toAbsolutePath();
            return Files.isExecutable(p) ? Optional.of(p) : Optional.empty();
        }
        String path = System.getenv().getOrDefault("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        for (String dir : path.split(":")) {
            Path p = Path.of(dir.isEmpty() ? "." : dir, name);
            if (Files.isRegularFile(p) && Files.isExecutable(p)) return Optional.of(p.toAbsolutePath());
        }
        return Optional.empty();
    }

    /**
     * Releases every shim connection without touching the shims: their tasks keep running and the next
     * daemon reconnects to them.
     */
    @Override
    public void close() {
        closing = true;
        for (ShimTask t : tasks.values()) t.release();
        tasks.clear();
    }
}
