package io.jcontainerd.runtime.restart;

import static org.assertj.core.api.Assertions.assertThat;

import io.jcontainerd.api.events.ContainerUpdate;
import io.jcontainerd.api.events.TaskExit;
import io.jcontainerd.api.events.TaskStart;
import io.jcontainerd.api.services.events.v1.Envelope;
import io.jcontainerd.api.services.events.v1.EventsGrpc;
import io.jcontainerd.api.services.events.v1.SubscribeRequest;
import io.jcontainerd.testing.Ctr;
import io.jcontainerd.testing.DaemonProcess;
import io.jcontainerd.testing.TestImages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIf;

/**
 * The restart monitor in a real daemon, driven by the real ctr with real runc and Debian's shim. Two
 * daemons: one reconciling only at boot and on task exits (interval 1h), so that {@code ctr run -d} of a
 * labeled container never races a reconcile; one reconciling every 200 ms, for changes no exit announces.
 */
@EnabledIf("available")
@Timeout(180)
class RestartMonitorTest {
    static final String IMAGE = "docker.io/library/busybox:latest";
    static final String STATUS = "containerd.io/restart.status";

    static DaemonProcess onExits;
    static DaemonProcess ticking;
    final List<Runnable> cleanups = new ArrayList<>();

    static boolean available() {
        return "root".equals(System.getProperty("user.name")) && Files.isExecutable(Path.of("/usr/sbin/runc"))
                && Files.isExecutable(Path.of("/usr/bin/containerd-shim-runc-v2")) && Files.isExecutable(Path.of(Ctr.BINARY));
    }

    @BeforeAll
    static void startDaemons() throws Exception {
        onExits = DaemonProcess.start("version = 2\n[plugins.\"io.containerd.internal.v1.restart\"]\n  interval = \"1h\"\n");
        ticking = DaemonProcess.start("version = 2\n[plugins.\"io.containerd.internal.v1.restart\"]\n  interval = \"200ms\"\n");
        for (DaemonProcess d : List.of(onExits, ticking)) {
            Ctr.run(d.address(), "images", "import", TestImages.busybox().resolve("busybox-docker.tar").toString()).assertOk();
        }
    }

    @AfterAll
    static void stopDaemons() {
        for (DaemonProcess d : new DaemonProcess[] {onExits, ticking}) {
            if (d != null) d.close();
        }
    }

    @AfterEach
    void cleanUp() {
        for (Runnable r : cleanups.reversed()) r.run();
        cleanups.clear();
    }

    /** Runs a detached container and registers its removal: labels cleared first, so nothing restarts it. */
    private void runDetached(DaemonProcess d, String id, List<String> labels, String... cmd) {
        List<String> args = new ArrayList<>(List.of("run", "-d"));
        for (String l : labels) args.addAll(List.of("--label", l));
        args.add(IMAGE);
        args.add(id);
        args.addAll(List.of(cmd));
        cleanups.add(() -> {
            Ctr.run(d.address(), "containers", "label", id, STATUS + "=");
            Ctr.run(d.address(), "tasks", "rm", "-f", id);
            Ctr.run(d.address(), "containers", "rm", id);
        });
        Ctr.run(d.address(), args.toArray(String[]::new)).assertOk();
    }

    record TaskRow(int pid, String status) {}

    /** The task's row in {@code ctr tasks ls}, or null when it has none. */
    static TaskRow task(DaemonProcess d, String id) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(id) + "\\s+(\\d+)\\s+(\\S+)\\s*$")
                .matcher(Ctr.run(d.address(), "tasks", "ls").assertOk().stdout());
        return m.find() ? new TaskRow(Integer.parseInt(m.group(1)), m.group(2)) : null;
    }

    /** Waits up to 20 s for the task's row to satisfy {@code ok}; returns it. */
    static TaskRow awaitTask(DaemonProcess d, String id, java.util.function.Predicate<TaskRow> ok, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        TaskRow last = null;
        while (System.nanoTime() < deadline) {
            last = task(d, id);
            if (ok.test(last)) return last;
            Thread.sleep(50);
        }
        throw new AssertionError(id + ": " + what + " not reached within 20s; last " + last + "\n" + d.logText());
    }

    static TaskRow awaitRunning(DaemonProcess d, String id, int notPid) throws InterruptedException {
        return awaitTask(d, id, t -> t != null && t.status().equals("RUNNING") && t.pid() != notPid, "RUNNING with a new pid");
    }

    /**
     * The container's labels as {@code ctr containers info} shows them (its JSON "Labels" object; ctr also
     * copies {@code --label}s into the spec's annotations, which are not labels).
     */
    static String info(DaemonProcess d, String id) {
        Matcher m = Pattern.compile("\"Labels\": (null|\\{[^}]*})").matcher(Ctr.run(d.address(), "containers", "info", id).assertOk().stdout());
        if (!m.find()) throw new AssertionError("no labels in ctr containers info " + id);
        return m.group(1);
    }

    static BlockingQueue<Envelope> subscribe(DaemonProcess d) {
        BlockingQueue<Envelope> q = new LinkedBlockingQueue<>();
        var it = EventsGrpc.newBlockingStub(d.channel()).subscribe(SubscribeRequest.newBuilder().addFilters("namespace==default").build());
        Thread.ofPlatform().daemon().start(() -> {
            try {
                while (it.hasNext()) q.add(it.next());
            } catch (RuntimeException closed) {
                // channel closed
            }
        });
        return q;
    }

    /** Topics of the events about {@code id} in arrival order, collected until {@code last} arrives (20 s at most). */
    static List<String> topicsUntil(BlockingQueue<Envelope> q, String last) throws InterruptedException {
        List<String> topics = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            Envelope e = q.poll(100, TimeUnit.MILLISECONDS);
            if (e == null) continue;
            topics.add(e.getTopic());
            if (e.getTopic().equals(last)) return topics;
        }
        throw new AssertionError("no " + last + " within 20s; got " + topics);
    }

    @Test
    void pluginIsListedOk() {
        assertThat(Ctr.run(onExits.address(), "plugins", "ls").assertOk().stdout())
                .containsPattern("(?m)^io\\.containerd\\.internal\\.v1\\s+restart\\s+-\\s+ok\\s*$");
    }

    @Test
    void killedTaskIsReplacedByANewRunningOneWithContainerdsEvents() throws Exception {
        DaemonProcess d = onExits;
        runDetached(d, "r-always", List.of(STATUS + "=running"), "/bin/sleep", "600");
        TaskRow first = awaitTask(d, "r-always", t -> t != null && t.status().equals("RUNNING"), "RUNNING");
        BlockingQueue<Envelope> events = subscribe(d);
        Thread.sleep(200); // the subscription is in place

        Ctr.run(d.address(), "tasks", "kill", "-s", "SIGKILL", "r-always").assertOk();
        TaskRow second = awaitRunning(d, "r-always", first.pid());
        assertThat(second.pid()).isNotEqualTo(first.pid());
        assertThat(info(d, "r-always")).contains("\"containerd.io/restart.count\": \"1\"");

        // as containerd: the shim's exit and delete, the count label, then the new task's create and start
        List<String> topics = topicsUntil(events, "/tasks/start");
        assertThat(topics).containsSubsequence("/tasks/exit", "/tasks/delete", "/containers/update", "/tasks/create", "/tasks/start");
        Envelope exit = null;
        BlockingQueue<Envelope> again = subscribe(d);
        Thread.sleep(200);
        Ctr.run(d.address(), "tasks", "kill", "-s", "SIGKILL", "r-always").assertOk();
        TaskRow third = awaitRunning(d, "r-always", second.pid());
        assertThat(info(d, "r-always")).contains("\"containerd.io/restart.count\": \"2\"");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        boolean sawUpdate = false;
        int startedPid = 0;
        while (System.nanoTime() < deadline && startedPid == 0) {
            Envelope e = again.poll(100, TimeUnit.MILLISECONDS);
            if (e == null) continue;
            switch (e.getTopic()) {
                case "/tasks/exit" -> exit = e;
                case "/containers/update" -> sawUpdate = ContainerUpdate.parseFrom(e.getEvent().getValue()).getLabelsMap()
                        .get("containerd.io/restart.count").equals("2");
                case "/tasks/start" -> startedPid = TaskStart.parseFrom(e.getEvent().getValue()).getPid();
                default -> { }
            }
        }
        assertThat(exit).isNotNull();
        assertThat(TaskExit.parseFrom(exit.getEvent().getValue()).getPid()).isEqualTo(second.pid());
        assertThat(TaskExit.parseFrom(exit.getEvent().getValue()).getExitStatus()).isEqualTo(137);
        assertThat(sawUpdate).isTrue();
        assertThat(startedPid).isEqualTo(third.pid());
    }

    @Test
    void onFailureWithOneRetryRestartsOnceOnly() throws Exception {
        DaemonProcess d = onExits;
        runDetached(d, "r-once", List.of(STATUS + "=running", "containerd.io/restart.policy=on-failure:1"), "/bin/sleep", "600");
        TaskRow first = awaitTask(d, "r-once", t -> t != null && t.status().equals("RUNNING"), "RUNNING");
        Ctr.run(d.address(), "tasks", "kill", "-s", "SIGKILL", "r-once").assertOk();
        TaskRow second = awaitRunning(d, "r-once", first.pid());
        assertThat(info(d, "r-once")).contains("\"containerd.io/restart.count\": \"1\"");

        Ctr.run(d.address(), "tasks", "kill", "-s", "SIGKILL", "r-once").assertOk();
        awaitTask(d, "r-once", t -> t != null && t.status().equals("STOPPED"), "STOPPED");
        Thread.sleep(1500); // the exit's reconcile has long run by now
        assertThat(task(d, "r-once")).isEqualTo(new TaskRow(second.pid(), "STOPPED"));
        assertThat(info(d, "r-once")).contains("\"containerd.io/restart.count\": \"1\"");
    }

    @Test
    void onFailureLeavesACleanExitAlone() throws Exception {
        DaemonProcess d = onExits;
        runDetached(d, "r-clean", List.of(STATUS + "=running", "containerd.io/restart.policy=on-failure"),
                "/bin/sh", "-c", "sleep 1; exit 0");
        awaitTask(d, "r-clean", t -> t != null && t.status().equals("STOPPED"), "STOPPED");
        Thread.sleep(1500);
        assertThat(task(d, "r-clean").status()).isEqualTo("STOPPED");
        assertThat(info(d, "r-clean")).doesNotContain("containerd.io/restart.count");
    }

    @Test
    void clearingTheStatusLabelEndsMonitoring() throws Exception {
        DaemonProcess d = onExits;
        runDetached(d, "r-unlabeled", List.of(STATUS + "=running"), "/bin/sleep", "600");
        TaskRow first = awaitTask(d, "r-unlabeled", t -> t != null && t.status().equals("RUNNING"), "RUNNING");
        Ctr.run(d.address(), "containers", "label", "r-unlabeled", STATUS + "=").assertOk();
        assertThat(info(d, "r-unlabeled")).doesNotContain(STATUS);
        Ctr.run(d.address(), "tasks", "kill", "-s", "SIGKILL", "r-unlabeled").assertOk();
        awaitTask(d, "r-unlabeled", t -> t != null && t.status().equals("STOPPED"), "STOPPED");
        Thread.sleep(1500);
        assertThat(task(d, "r-unlabeled")).isEqualTo(new TaskRow(first.pid(), "STOPPED"));
    }

    @Test
    void restartedTaskWritesToTheLogUri() throws Exception {
        DaemonProcess d = onExits;
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "jcd-restart-log");
        cleanups.add(() -> DaemonProcess.Cleanup.deleteTree(dir));
        Path log = dir.resolve("app.log");
        runDetached(d, "r-log", List.of(STATUS + "=running", "containerd.io/restart.loguri=file://" + log),
                "/bin/sh", "-c", "echo out-line; echo err-line >&2; exec sleep 600");
        TaskRow first = awaitTask(d, "r-log", t -> t != null && t.status().equals("RUNNING"), "RUNNING");
        assertThat(log).doesNotExist(); // ctr's own first run writes to its FIFOs
        Ctr.run(d.address(), "tasks", "kill", "-s", "SIGKILL", "r-log").assertOk();
        awaitRunning(d, "r-log", first.pid());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline && !(Files.exists(log) && Files.readString(log).contains("err-line"))) Thread.sleep(50);
        assertThat(Files.readString(log)).contains("out-line").contains("err-line");
    }

    @Test
    void deprecatedLogPathLabelStillWorks() throws Exception {
        DaemonProcess d = onExits;
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "jcd-restart-log");
        cleanups.add(() -> DaemonProcess.Cleanup.deleteTree(dir));
        Path log = dir.resolve("old.log");
        runDetached(d, "r-logpath", List.of(STATUS + "=running", "containerd.io/restart.logpath=" + log),
                "/bin/sh", "-c", "echo path-line; exec sleep 600");
        TaskRow first = awaitTask(d, "r-logpath", t -> t != null && t.status().equals("RUNNING"), "RUNNING");
        Ctr.run(d.address(), "tasks", "kill", "-s", "SIGKILL", "r-logpath").assertOk();
        awaitRunning(d, "r-logpath", first.pid());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline && !(Files.exists(log) && Files.readString(log).contains("path-line"))) Thread.sleep(50);
        assertThat(Files.readString(log)).contains("path-line");
    }

    @Test
    void intervalRestartsAStoppedTaskOnceLabeledRunning() throws Exception {
        DaemonProcess d = ticking;
        runDetached(d, "t-later", List.of(), "/bin/sleep", "600");
        TaskRow first = awaitTask(d, "t-later", t -> t != null && t.status().equals("RUNNING"), "RUNNING");
        Ctr.run(d.address(), "tasks", "kill", "-s", "SIGKILL", "t-later").assertOk();
        awaitTask(d, "t-later", t -> t != null && t.status().equals("STOPPED"), "STOPPED");
        Ctr.run(d.address(), "containers", "label", "t-later", STATUS + "=running").assertOk();
        awaitRunning(d, "t-later", first.pid()); // no exit announces this: the interval finds it
    }

    @Test
    void stoppedLabelStopsARunningTask() throws Exception {
        DaemonProcess d = ticking;
        runDetached(d, "t-stop", List.of(), "/bin/sleep", "600");
        awaitTask(d, "t-stop", t -> t != null && t.status().equals("RUNNING"), "RUNNING");
        BlockingQueue<Envelope> events = subscribe(d);
        Thread.sleep(200);
        Ctr.run(d.address(), "containers", "label", "t-stop", STATUS + "=stopped").assertOk();
        awaitTask(d, "t-stop", t -> t == null, "killed and deleted");
        List<String> topics = topicsUntil(events, "/tasks/delete");
        assertThat(topics).containsSubsequence("/containers/update", "/tasks/exit", "/tasks/delete");
        Thread.sleep(1000); // and it stays so
        assertThat(task(d, "t-stop")).isNull();
        assertThat(d.logText()).contains("level=error msg=\"monitor\" error=\"no running task found: task t-stop not found\"");
    }
}
