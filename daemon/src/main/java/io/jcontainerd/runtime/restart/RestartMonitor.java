package io.jcontainerd.runtime.restart;

import io.jcontainerd.api.events.ContainerUpdate;
import io.jcontainerd.api.events.TaskExit;
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
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * containerd's restart monitor. Every interval each namespace's containers labeled
 * {@link RestartLabels#STATUS} are compared with their tasks: a container to keep {@code running} whose
 * task is not running (and whose policy allows it) gets its old task deleted and a new one created and
 * started, with stdout/stderr going to its log URI (or nowhere), and its restart count raised; a container
 * to keep {@code stopped} whose task runs has it killed and deleted. Containers are reconciled in
 * parallel, one reconcile at a time.
 *
 * <p>containerd's monitor only polls. This one also reacts to a task's exit at once, for that container
 * alone: one record read on a reader connection ({@link MetadataDb#read}, which waits for no writer), and
 * nothing more unless the record carries the status label. An exit never causes a pass over every
 * namespace, which would hold the metadata database against the writes of the very clients whose
 * containers exit ({@code ctr run --rm}).
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
    /** Containers whose task exited since the loop last looked, with how many exits each. */
    private final ConcurrentHashMap<Key, Integer> exited = new ConcurrentHashMap<>();
    /** Set when exits may have been missed: the next round is a full pass. */
    private volatile boolean passWanted;
    private final LongAdder passes = new LongAdder(), exits = new LongAdder(), exitReconciles = new LongAdder();
    private volatile boolean closed;
    private volatile Subscription exitEvents;
    private Thread loop;
    private Thread exitWatcher;

    public RestartMonitor(MetadataDb db, TaskManager tasks, Exchange exchange, Publisher events, Duration interval) {
        this.db = db;
        this.tasks = tasks;
        this.exchange = exchange;
        this.events = events;
        this.interval = interval;
    }

    /** A container by namespace and id. */
    record Key(String namespace, String id) {}

    /**
     * What the monitor did so far: full passes over every namespace (at start, every interval, and after
     * missing exits), task exits dealt with, and those exits that reconciled their (labeled) container.
     */
    public record Stats(long passes, long exits, long exitReconciles) {}

    public Stats stats() {
        return new Stats(passes.sum(), exits.sum(), exitReconciles.sum());
    }

    /** Starts reconciling: once now, then every interval, and each exited task's container at once. */
    public synchronized void start() {
        exitEvents = exchange.subscribe(List.of("topic==\"/tasks/exit\""));
        exitWatcher = Thread.ofVirtual().name("restart-monitor-exits").start(this::watchExits);
        loop = Thread.ofVirtual().name("restart-monitor").start(this::run);
    }

    private void run() {
        long due = System.nanoTime(); // a full pass at start
        while (!closed) {
            try {
                if (passWanted || System.nanoTime() - due >= 0) {
                    passWanted = false;
                    due = System.nanoTime() + interval.toNanos();
                    // the pass looks at every labeled container, the exited ones too
                    long covered = drainExited().values().stream().mapToLong(Integer::longValue).sum();
                    try {
                        reconcile();
                    } finally {
                        exits.add(covered);
                    }
                } else {
                    reconcileExited();
                }
            } catch (RuntimeException e) {
                LOG.log(Level.ERROR, "reconcile", Logging.brief(e));
            }
            try {
                // an exit recorded after this check has released a permit: no wake-up is lost
                if (exited.isEmpty() && !passWanted) wake.tryAcquire(Math.max(0, due - System.nanoTime()), TimeUnit.NANOSECONDS);
                wake.drainPermits(); // exits that came in a burst make one round
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private Map<Key, Integer> drainExited() {
        Map<Key, Integer> out = new java.util.HashMap<>();
        for (Key k : exited.keySet()) {
            Integer n = exited.remove(k);
            if (n != null) out.put(k, n);
        }
        return out;
    }

    /** Reconciles the containers whose task exited, each only when labeled; never a pass. */
    private void reconcileExited() {
        Map<Key, Integer> batch = drainExited();
        if (batch.isEmpty()) return;
        List<Change> changes = new ArrayList<>();
        long labeled = 0;
        for (Key k : batch.keySet()) {
            try {
                Container c = exitedContainer(k);
                if (c == null) continue;
                labeled += batch.get(k);
                Change ch = change(k.namespace(), c);
                if (ch != null) changes.add(ch);
            } catch (RuntimeException e) {
                LOG.log(Level.ERROR, "monitor for changes", Logging.brief(e));
            }
        }
        try {
            apply(changes);
        } finally {
            exitReconciles.add(labeled);
            exits.add(batch.values().stream().mapToLong(Integer::longValue).sum());
        }
    }

    /** The exited task's container if it is labeled for the monitor, else null (also when already gone). */
    private Container exitedContainer(Key k) {
        Container c;
        try {
            c = db.read(tx -> db.containers(tx, k.namespace()).get(k.id()));
        } catch (ContainerdException e) {
            if (e.kind() == io.jcontainerd.errdefs.ErrorKind.NOT_FOUND) return null; // ctr run --rm deleted it
            throw e;
        }
        return c.getLabelsMap().containsKey(RestartLabels.STATUS) ? c : null;
    }

    /** Notes one exit for the loop; null exit means one that could not be read (or was missed): a full pass. */
    private void exited(String ns, TaskExit exit) {
        if (exit == null || exit.getContainerId().isEmpty()) {
            passWanted = true;
        } else if (!exit.getId().isEmpty() && !exit.getId().equals(exit.getContainerId())) {
            exits.increment(); // an exec process: the task's status stays what it was
            return;
        } else {
            exited.merge(new Key(ns, exit.getContainerId()), 1, Integer::sum);
        }
        wake.release();
    }

    private void watchExits() {
        while (!closed) {
            Envelope e;
            try {
                e = exitEvents.next();
            } catch (InterruptedException ie) {
                return;
            }
            if (e != null) {
                exited(e.namespace(), parse(e));
            } else if (!closed) {
                // dropped for falling behind (it never should: it only records); subscribe again, and
                // let a full pass find what the lost exits would have shown
                Subscription again = exchange.subscribe(List.of("topic==\"/tasks/exit\""));
                exitEvents = again;
                if (closed) again.close();
                exited(null, null);
            }
        }
    }

    private static TaskExit parse(Envelope e) {
        try {
            return TaskExit.parseFrom(e.event().getValue());
        } catch (com.google.protobuf.InvalidProtocolBufferException bad) {
            LOG.log(Level.WARNING, "unreadable task exit event: {0}", bad.getMessage());
            return null;
        }
    }

    /**
     * One pass over every namespace, in parallel; returns when every change was applied or failed. Through
     * the writer's connection ({@link MetadataDb#view}): the pass at start must not open a reader at boot,
     * and one pass an interval is little.
     */
    void reconcile() {
        passes.increment();
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
        apply(changes);
    }

    /** Applies {@code changes} in parallel; returns when each was applied or failed. */
    private void apply(List<Change> changes) {
        if (changes.isEmpty()) return;
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
            Change ch = change(ns, c);
            if (ch != null) changes.add(ch);
        }
        return changes;
    }

    /** What to do for one labeled container, or null for nothing. */
    private Change change(String ns, Container c) {
        Map<String, String> labels = c.getLabelsMap();
        String desired = labels.getOrDefault(RestartLabels.STATUS, "");
        StateResponse state = null;
        ContainerdException err = null;
        try {
            state = taskState(ns, c.getId());
            if (desired.equals(statusName(state.getStatus()))) return null;
        } catch (ContainerdException e) {
            err = e;
        }
        if (err != null) {
            LOG.log(Level.ERROR, "monitor", Logging.brief(err));
            if (desired.equals(STOPPED)) return null; // no task is as stopped as it gets
        }
        return switch (desired) {
            case RUNNING -> {
                Status status = state == null ? Status.UNKNOWN : state.getStatus();
                // paused on purpose, or created and about to be started by its client
                if (state != null && (status == Status.PAUSED || status == Status.PAUSING || status == Status.CREATED)) yield null;
                if (!RestartPolicy.shouldRestart(state == null ? 0 : state.getExitStatus(), labels)) yield null;
                yield new Start(ns, c.getId(), labels.getOrDefault(RestartLabels.LOG_URI, ""),
                        labels.getOrDefault(RestartLabels.LOG_PATH, ""), restartCount(labels) + 1);
            }
            case STOPPED -> new Stop(ns, c.getId());
            default -> null; // any other value is left alone, as in containerd
        };
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
        Subscription s = exitEvents;
        if (s != null) s.close();
        wake.release();
        if (w != null) w.join(Duration.ofSeconds(5));
        if (l != null && !l.join(Duration.ofSeconds(30))) LOG.log(Level.WARNING, "restart monitor still reconciling at close");
    }
}
