package io.jcontainerd.runtime.restart;

import io.jcontainerd.api.events.ContainerUpdate;
import io.jcontainerd.api.services.containers.v1.Container;
import io.jcontainerd.api.task.v2.StateResponse;
import io.jcontainerd.api.v1.types.Status;
import io.jcontainerd.errdefs.ContainerdException;
import io.jcontainerd.errdefs.Errdefs;
import io.jcontainerd.events.Envelope;
import io.jcontainerd.events.Exchange;
import io.jcontainerd.events.Publisher;
import io.jcontainerd.events.Subscription;
import io.jcontainerd.filters.Filter;
import io.jcontainerd.metadata.MetadataDb;
import io.jcontainerd.metadata.MetadataSnapshotter;
import io.jcontainerd.mount.Mount;
import io.jcontainerd.runtime.CreateOpts;
import io.jcontainerd.runtime.TaskIO;
import io.jcontainerd.runtime.v2.ShimTask;
import io.jcontainerd.runtime.v2.TaskManager;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * containerd's restart monitor. Every interval, and as soon as a task exits, each namespace's containers
 * labeled {@link RestartLabels#STATUS} are compared with their tasks: a container to keep {@code running}
 * whose task is not running (and whose policy allows it) gets its old task deleted and a new one created
 * and started, with stdout/stderr going to its log URI (or nowhere), and its restart count raised; a
 * container to keep {@code stopped} whose task runs has it killed and deleted. Containers are
 * reconciled in parallel, one reconcile at a time.
 */
public final class RestartMonitor implements AutoCloseable {
    private static final Logger LOG = System.getLogger(RestartMonitor.class.getName());
    private static final Filter LABELED = Filter.parse("labels.\"" + RestartLabels.STATUS + "\"");
    private static final String RUNNING = "running", STOPPED = "stopped";
    private static final int SIGKILL = 9;

    private final MetadataDb db;
    private final TaskManager tasks;
    private final Exchange exchange;
    private final Publisher events;
    private final Duration interval;
    /** Released to run a reconcile before the interval is up (a task exited, or closing). */
    private final Semaphore wake = new Semaphore(0);
    private volatile boolean closed;
    private volatile Subscription exits;
    private Thread loop;
    private Thread exitWatcher;

    public RestartMonitor(MetadataDb db, TaskManager tasks, Exchange exchange, Publisher events, Duration interval) {
        this.db = db;
        this.tasks = tasks;
        this.exchange = exchange;
        this.events = events;
        this.interval = interval;
    }

    /** Starts reconciling: once now, then every interval and after each task exit. */
    public synchronized void start() {
        exits = exchange.subscribe(List.of("topic==\"/tasks/exit\""));
        exitWatcher = Thread.ofVirtual().name("restart-monitor-exits").start(this::watchExits);
        loop = Thread.ofVirtual().name("restart-monitor").start(this::run);
    }

    private void run() {
        while (!closed) {
            try {
                reconcile();
            } catch (RuntimeException e) {
                LOG.log(Level.ERROR, "reconcile", Logging.brief(e));
            }
            try {
                wake.tryAcquire(interval.toNanos(), TimeUnit.NANOSECONDS);
                wake.drainPermits(); // exits that came in a burst make one reconcile
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private void watchExits() {
        while (!closed) {
            Envelope e;
            try {
                e = exits.next();
            } catch (InterruptedException ie) {
                return;
            }
            if (e != null) {
                wake.release();
            } else if (!closed) {
                // dropped for falling behind (it never should: it only signals); subscribe again
                Subscription again = exchange.subscribe(List.of("topic==\"/tasks/exit\""));
                exits = again;
                if (closed) again.close();
                wake.release();
            }
        }
    }

    /** One pass over every namespace, in parallel; returns when every change was applied or failed. */
    void reconcile() {
        List<String> namespaces = db.view(tx -> db.namespaces(tx).list());
        try (ExecutorService each = Executors.newVirtualThreadPerTaskExecutor()) {
            for (String ns : namespaces) each.submit(() -> reconcile(ns));
        }
    }

    private void reconcile(String ns) {
        List<Change> changes;
        try {
            changes = changes(ns);
        } catch (RuntimeException e) {
            LOG.log(Level.ERROR, "monitor for changes", Logging.brief(e));
            return;
        }
        try (ExecutorService each = Executors.newVirtualThreadPerTaskExecutor()) {
            for (Change c : changes) {
                each.submit(() -> {
                    try {
                        c.apply();
                    } catch (IOException | RuntimeException e) {
                        LOG.log(Level.ERROR, "apply change", Logging.brief(e));
                    }
                });
            }
        }
    }

    /** What to do in one namespace: containerd's monitor pass. */
    List<Change> changes(String ns) {
        List<Container> labeled = db.view(tx -> db.containers(tx, ns).list(LABELED));
        List<Change> changes = new ArrayList<>();
        for (Container c : labeled) {
            Map<String, String> labels = c.getLabelsMap();
            String desired = labels.getOrDefault(RestartLabels.STATUS, "");
            StateResponse state = null;
            ContainerdException err = null;
            try {
                state = taskState(ns, c.getId());
                if (desired.equals(statusName(state.getStatus()))) continue;
            } catch (ContainerdException e) {
                err = e;
            }
            if (err != null) {
                LOG.log(Level.ERROR, "monitor", Logging.brief(err));
                if (desired.equals(STOPPED)) continue; // no task is as stopped as it gets
            }
            switch (desired) {
                case RUNNING -> {
                    Status status = state == null ? Status.UNKNOWN : state.getStatus();
                    // paused on purpose, or created and about to be started by its client
                    if (state != null && (status == Status.PAUSED || status == Status.PAUSING || status == Status.CREATED)) continue;
                    if (!RestartPolicy.shouldRestart(state == null ? 0 : state.getExitStatus(), labels)) continue;
                    changes.add(new Start(ns, c.getId(), labels.getOrDefault(RestartLabels.LOG_URI, ""),
                            labels.getOrDefault(RestartLabels.LOG_PATH, ""), restartCount(labels) + 1));
                }
                case STOPPED -> changes.add(new Stop(ns, c.getId()));
                default -> { } // any other value is left alone, as in containerd
            }
        }
        return changes;
    }

    /** containerd's ProcessStatus strings: the enum name in lower case. */
    static String statusName(Status s) {
        return s.name().toLowerCase(Locale.ROOT);
    }

    private static long restartCount(Map<String, String> labels) {
        try {
            return Long.parseLong(labels.getOrDefault(RestartLabels.COUNT, ""));
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private StateResponse taskState(String ns, String id) {
        ShimTask t = tasks.get(ns, id).orElseThrow(() -> Errdefs.notFound("no running task found: task %s not found", id));
        return t.state("", tasks.timeouts().taskState());
    }

    /** One reconciling step for one container. */
    sealed interface Change permits Start, Stop {
        void apply() throws IOException;
    }

    /** Replaces a task that is not running with a new one, started. */
    final class Start implements Change {
        final String ns, id, logUri, logPath;
        final long count;

        Start(String ns, String id, String logUri, String logPath, long count) {
            this.ns = ns;
            this.id = id;
            this.logUri = logUri;
            this.logPath = logPath;
            this.count = count;
        }

        @Override
        public void apply() throws IOException {
            TaskIO io = io();
            if (!logUri.isEmpty() && !logPath.isEmpty()) {
                LOG.log(Level.WARNING, "LogPathLabel={0} has been deprecated, using LogURILabel={1}", logPath, logUri);
            }
            var old = tasks.get(ns, id);
            if (old.isPresent()) {
                try {
                    Status s = old.get().state("", tasks.timeouts().taskState()).getStatus();
                    if (s != Status.STOPPED && s != Status.UNKNOWN) return; // it came back meanwhile
                } catch (ContainerdException e) {
                    // a task that cannot say is replaced
                }
                try {
                    tasks.delete(ns, id);
                } catch (ContainerdException e) {
                    // as containerd: a failed delete shows up as the create's error
                }
            }
            if (count > 0) setCount();
            newTask(io).start("");
        }

        /** containerd's cio for the labels: the log URI, else the deprecated path as a file URI, else null IO. */
        private TaskIO io() {
            String target = "";
            if (!logUri.isEmpty()) {
                target = checkedUri(logUri);
            } else if (!logPath.isEmpty()) {
                target = fileUri(logPath);
            }
            return new TaskIO("", target, target, false);
        }

        private void setCount() {
            Container update = Container.newBuilder().setId(id).putLabels(RestartLabels.COUNT, Long.toString(count)).build();
            Container c = db.update(tx -> db.containers(tx, ns).update(update, List.of("labels." + RestartLabels.COUNT)));
            // what the Containers service publishes for an update
            events.publish(ns, "/containers/update", ContainerUpdate.newBuilder().setId(c.getId()).setImage(c.getImage())
                    .putAllLabels(c.getLabelsMap()).setSnapshotKey(c.getSnapshotKey()).build());
        }

        /** What a client's NewTask sends: the snapshot's mounts as rootfs, the container's runtime. */
        private ShimTask newTask(TaskIO io) throws IOException {
            Container c = db.view(tx -> db.containers(tx, ns).get(id));
            List<Mount> rootfs = List.of();
            if (!c.getSnapshotKey().isEmpty()) {
                if (c.getSnapshotter().isEmpty()) {
                    throw Errdefs.invalidArgument("unable to resolve rootfs mounts without snapshotter on container");
                }
                MetadataSnapshotter sn = db.snapshotters().get(c.getSnapshotter());
                if (sn == null) throw Errdefs.invalidArgument("snapshotter not loaded: %s", c.getSnapshotter());
                rootfs = sn.view(ns, null).mounts(c.getSnapshotKey());
            }
            CreateOpts opts = new CreateOpts(c.getSpec(), rootfs, io, "", c.getRuntime().getName(),
                    c.getRuntime().hasOptions() ? c.getRuntime().getOptions() : null, null);
            return tasks.create(ns, id, opts);
        }
    }

    /** Kills a task that should not run (every process in it), waits for it and deletes it. */
    final class Stop implements Change {
        final String ns, id;

        Stop(String ns, String id) {
            this.ns = ns;
            this.id = id;
        }

        @Override
        public void apply() {
            var found = tasks.get(ns, id);
            if (found.isEmpty()) return;
            ShimTask t = found.get();
            try {
                t.kill("", SIGKILL, true);
            } catch (ContainerdException e) {
                try {
                    tasks.delete(ns, id);
                    return;
                } catch (ContainerdException ignored) {
                    throw e;
                }
            }
            t.await("");
            tasks.delete(ns, id);
        }
    }

    /** A log URI as containerd takes it: it must parse as a URL (Go's url.Parse refuses control characters). */
    static String checkedUri(String uri) {
        for (int i = 0; i < uri.length(); i++) {
            char ch = uri.charAt(i);
            if (ch < 0x20 || ch == 0x7f) {
                throw Errdefs.invalidArgument("failed to parse %s into url: net/url: invalid control character in URL", uri);
            }
        }
        if (uri.startsWith(":")) throw Errdefs.invalidArgument("failed to parse %s into url: missing protocol scheme", uri);
        return uri;
    }

    /** containerd's LogURIGenerator("file", path): an absolute, cleaned path as a {@code file://} URI. */
    static String fileUri(String path) {
        String clean = java.nio.file.Path.of(path).normalize().toString();
        if (!clean.startsWith("/")) throw Errdefs.invalidArgument("absolute path needed");
        try {
            return new URI("file", "", clean, null, null).toASCIIString();
        } catch (URISyntaxException e) {
            throw Errdefs.invalidArgument("%s", e.getMessage());
        }
    }

    /** Stops reconciling; a change being applied finishes first (interrupting shim calls could break them). */
    @Override
    public void close() throws InterruptedException {
        Thread l, w;
        synchronized (this) {
            closed = true;
            l = loop;
            w = exitWatcher;
        }
        Subscription s = exits;
        if (s != null) s.close();
        wake.release();
        if (w != null) w.join(Duration.ofSeconds(5));
        if (l != null && !l.join(Duration.ofSeconds(30))) LOG.log(Level.WARNING, "restart monitor still reconciling at close");
    }
}
