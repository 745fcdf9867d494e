package io.jcontainerd.client.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.jcontainerd.client.Json;
import io.jcontainerd.testing.Ctr;
import io.jcontainerd.testing.DaemonProcess;
import io.jcontainerd.testing.TestImages;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * jctr's containers, tasks, run and images mount against a real daemon running real containers
 * (Debian's runc shim, runc, the offline busybox image), cross-checked with the real ctr.
 */
class JctrRunTest {
    static final String IMAGE = "docker.io/library/busybox:latest";
    static DaemonProcess daemon;
    static Path tmp;
    final List<String[]> cleanups = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        daemon = DaemonProcess.start(DaemonProcess.WITHOUT_AUTOMATIC_GC);
        tmp = Files.createTempDirectory("jctr-run");
        String tar = TestImages.busybox().resolve("busybox-docker.tar").toString();
        for (String ns : List.of("run", "ctrx")) jctr(ns, null, "images", "import", tar).ok();
    }

    @AfterAll
    static void stop() {
        if (daemon != null) daemon.close();
        if (tmp != null) {
            DaemonProcess.Cleanup.unmountUnder(tmp);
            DaemonProcess.Cleanup.deleteTree(tmp);
        }
    }

    /** Containers a test made are killed and removed whatever happened. */
    @AfterEach
    void cleanup() {
        for (String[] c : cleanups.reversed()) {
            String ns = c[0];
            String id = c[1];
            jctr(ns, null, "tasks", "kill", "--all", "-s", "KILL", id);
            jctr(ns, null, "tasks", "rm", "-f", id);
            jctr(ns, null, "containers", "rm", id);
        }
    }

    private void removeLater(String ns, String id) {
        cleanups.add(new String[] {ns, id});
    }

    record Result(int code, byte[] stdout, String err) {
        String out() {
            return new String(stdout, StandardCharsets.UTF_8);
        }

        Result ok() {
            assertThat(code).as("exit code; stderr: " + err + "; stdout: " + out()).isZero();
            return this;
        }
    }

    static Result jctr(String ns, byte[] stdin, String... args) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        InputStream in = stdin == null ? InputStream.nullInputStream() : new ByteArrayInputStream(stdin);
        int code = Jctr.run(args, Map.of("CONTAINERD_ADDRESS", daemon.address(), "CONTAINERD_NAMESPACE", ns), in, o, e);
        return new Result(code, o.toByteArray(), e.toString(StandardCharsets.UTF_8));
    }

    @Test
    void runForegroundOutputExitCodeStdinAndRm() {
        removeLater("run", "t1");
        Result hi = jctr("run", null, "run", "--rm", IMAGE, "t1", "echo", "hi").ok();
        assertThat(hi.out()).isEqualTo("hi\n");
        assertThat(jctr("run", null, "containers", "ls", "-q").ok().out()).doesNotContain("t1");
        assertThat(jctr("run", null, "snapshots", "ls").ok().out()).doesNotContain("t1 ");

        removeLater("run", "t2");
        Result three = jctr("run", null, "run", "--rm", IMAGE, "t2", "sh", "-c", "echo err >&2; exit 3");
        assertThat(three.code()).isEqualTo(3);
        assertThat(three.err()).contains("err");

        // stdin to stdout through the FIFOs, every byte value intact
        byte[] all = new byte[256 * 64];
        for (int i = 0; i < all.length; i++) all[i] = (byte) i;
        removeLater("run", "t3");
        Result cat = jctr("run", all, "run", "--rm", "--env", "A=b", IMAGE, "t3", "cat").ok();
        assertThat(cat.stdout()).isEqualTo(all);

        removeLater("run", "t4");
        assertThat(jctr("run", null, "run", "--rm", "--env", "GREETING=hello", "--label", "x=y", IMAGE, "t4", "sh", "-c",
                "echo $GREETING $PATH; hostname").ok().out()).startsWith("hello /bin\n");
    }

    @Test
    void detachedTaskLsPsExecPauseMetricsKillRm() throws Exception {
        removeLater("run", "d1");
        String fifos = tmp.resolve("fifos").toString();
        jctr("run", null, "run", "-d", "--fifo-dir", fifos, IMAGE, "d1", "sh", "-c", "while true; do sleep 1; done").ok();
        String ls = jctr("run", null, "tasks", "ls").ok().out();
        assertThat(ls).startsWith("TASK    PID");
        assertThat(ls).containsPattern("d1\\s+\\d+\\s+RUNNING");
        assertThat(jctr("run", null, "tasks", "ps", "d1").ok().out()).startsWith("PID").containsPattern("\\d+\\s+-");

        Result exec = jctr("run", null, "tasks", "exec", "--fifo-dir", fifos, "--exec-id", "e1", "d1", "sh", "-c", "echo from-exec; exit 4");
        assertThat(exec.code()).isEqualTo(4);
        assertThat(exec.out()).isEqualTo("from-exec\n");
        assertThat(jctr("run", null, "tasks", "exec", "--fifo-dir", fifos, "--exec-id", "e2", "--cwd", "/bin", "d1", "sh", "-c", "pwd")
                .ok().out()).isEqualTo("/bin\n");

        jctr("run", null, "tasks", "exec", "-d", "--fifo-dir", fifos, "--exec-id", "e3", "d1", "sleep", "1000").ok();
        assertThat(jctr("run", null, "tasks", "ps", "d1").ok().out()).contains("&ProcessDetails{ExecID:e3,");

        jctr("run", null, "tasks", "pause", "d1").ok();
        assertThat(jctr("run", null, "tasks", "ls").ok().out()).containsPattern("d1\\s+\\d+\\s+PAUSED");
        jctr("run", null, "tasks", "resume", "d1").ok();
        assertThat(jctr("run", null, "tasks", "ls").ok().out()).containsPattern("d1\\s+\\d+\\s+RUNNING");

        String metrics = jctr("run", null, "tasks", "metrics", "d1").ok().out();
        assertThat(metrics).startsWith("ID").contains("d1").contains("METRIC").contains("pids.current");

        // a running task cannot be removed; killed, it can
        assertThat(jctr("run", null, "containers", "rm", "d1").code()).isEqualTo(1);
        jctr("run", null, "tasks", "kill", "-s", "SIGKILL", "d1").ok();
        awaitStatus("run", "d1", "STOPPED");
        jctr("run", null, "tasks", "rm", "d1").ok();
        assertThat(jctr("run", null, "tasks", "ls", "-q").ok().out()).doesNotContain("d1");
        jctr("run", null, "containers", "rm", "d1").ok();
        assertThat(jctr("run", null, "containers", "ls", "-q").ok().out()).doesNotContain("d1");
    }

    private static void awaitStatus(String ns, String id, String status) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            if (jctr(ns, null, "tasks", "ls").ok().out().matches("(?s).*" + id + "\\s+\\d+\\s+" + status + ".*")) return;
            Thread.sleep(50);
        }
        throw new AssertionError(id + " not " + status + ": " + jctr(ns, null, "tasks", "ls").out());
    }

    @Test
    void containersCreateLsInfoLabelRmAndSpecMatchesCtr() {
        removeLater("run", "c1");
        removeLater("run", "c2");
        jctr("run", null, "containers", "create", "--label", "a=b", "--env", "X=1", IMAGE, "c1", "sh", "-c", "echo x").ok();
        String ls = jctr("run", null, "containers", "ls").ok().out();
        assertThat(ls).startsWith("CONTAINER    IMAGE").containsPattern("c1\\s+" + IMAGE + "\\s+io.containerd.runc.v2");
        String info = jctr("run", null, "containers", "info", "c1").ok().out();
        assertThat(info).contains("\"ID\": \"c1\"").contains("\"io.containerd.image.config.stop-signal\": \"SIGTERM\"")
                .contains("\"a\": \"b\"").contains("\"type_url\": \"containerd.runc.v1.Options\"").contains("\"SnapshotKey\": \"c1\"");
        assertThat(jctr("run", null, "containers", "label", "c1", "z=9").ok().out()).contains("z=9").contains("a=b");

        // the same flags through the real ctr give the same spec (but for the id in the cgroups path)
        Ctr.run(daemon.address(), "-n", "run", "containers", "create", "--label", "a=b", "--env", "X=1", IMAGE, "c2", "--", "sh", "-c", "echo x")
                .assertOk();
        Object ours = Json.parse(jctr("run", null, "containers", "info", "--spec", "c1").ok().out());
        Object theirs = Json.parse(Ctr.run(daemon.address(), "-n", "run", "containers", "info", "--spec", "c2").assertOk().stdout()
                .replace("/run/c2", "/run/c1"));
        assertThat(ours).isEqualTo(theirs);

        jctr("run", null, "containers", "rm", "c1", "c2").ok();
        assertThat(jctr("run", null, "containers", "ls", "-q").ok().out()).isBlank();
        // the containers' snapshots are gone (compare keys: a chain id may well end in "c1")
        List<String> keys = jctr("run", null, "snapshots", "ls").ok().out().lines().skip(1)
                .map(l -> l.split("\\s+")[0]).toList();
        assertThat(keys).isNotEmpty().doesNotContain("c1", "c2");
    }

    @Test
    void ctrStartsWhatJctrCreatedAndViceVersa() {
        removeLater("ctrx", "x1");
        removeLater("ctrx", "y1");
        jctr("ctrx", null, "containers", "create", IMAGE, "x1", "sh", "-c", "echo made-by-jctr").ok();
        Ctr.Result started = Ctr.run(daemon.address(), "-n", "ctrx", "tasks", "start", "x1");
        assertThat(started.exitCode()).as(started.stderr()).isZero();
        assertThat(started.stdout()).contains("made-by-jctr");

        Ctr.run(daemon.address(), "-n", "ctrx", "containers", "create", IMAGE, "y1", "--", "sh", "-c", "echo made-by-ctr; exit 5").assertOk();
        Result r = jctr("ctrx", null, "tasks", "start", "y1");
        assertThat(r.code()).as(r.err()).isEqualTo(5);
        assertThat(r.out()).isEqualTo("made-by-ctr\n");
        jctr("ctrx", null, "containers", "rm", "x1", "y1").ok();
    }

    @Test
    void imagesMountShowsFilesAndUnmountRemovesMountAndSnapshot() throws Exception {
        Path target = Files.createDirectories(tmp.resolve("mnt"));
        Result m = jctr("run", null, "images", "mount", IMAGE, target.toString()).ok();
        try {
            assertThat(m.out()).startsWith("sha256:").endsWith(target + "\n");
            assertThat(target.resolve("bin/busybox")).isRegularFile();
            assertThat(mounted(target)).isTrue();
            assertThat(jctr("run", null, "snapshots", "ls").ok().out()).contains(target.toString());
            assertThat(jctr("run", null, "leases", "ls").ok().out()).contains(target.toString());
        } finally {
            jctr("run", null, "images", "unmount", "--rm", target.toString()).ok();
        }
        assertThat(mounted(target)).isFalse();
        assertThat(Files.list(target).count()).isZero();
        assertThat(jctr("run", null, "snapshots", "ls").ok().out()).doesNotContain(target.toString());
        assertThat(jctr("run", null, "leases", "ls").ok().out()).doesNotContain(target.toString());
    }

    private static boolean mounted(Path p) throws Exception {
        return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream().anyMatch(l -> l.split(" ")[4].equals(p.toString()));
    }

    @Test
    void runWithTerminalUnderScript() throws Exception {
        Path script = Path.of("/usr/bin/script");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(script), "no script(1) to give jctr a pty");
        removeLater("run", "tty1");
        String jctr = String.join(" ", DaemonProcess.JAVA, "--enable-native-access=ALL-UNNAMED", "-cp",
                System.getProperty("java.class.path"), "io.jcontainerd.client.cli.Jctr", "-a", daemon.address(), "-n", "run",
                "run", "--rm", "-t", IMAGE, "tty1", "sh", "-c", "'tty; echo in-tty; exit 7'");
        Process p = new ProcessBuilder(script.toString(), "-qefc", jctr, "/dev/null").redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.PIPE).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(out).contains("/dev/pts/").contains("in-tty");
        assertThat(p.exitValue()).as(out).isEqualTo(7);
    }
}
