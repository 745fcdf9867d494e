package io.jcontainerd.shim;

import static org.assertj.core.api.Assertions.assertThat;

import io.jcontainerd.testing.Ctr;
import io.jcontainerd.testing.DaemonProcess;
import io.jcontainerd.testing.TestImages;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Java shim as the daemon's default for {@code io.containerd.runc.v2}: bin/jcontainerd with no runtime
 * config, "installed" beside a home whose bin/jcontainerd-shim-runc-v2 runs this build's shim, driven by
 * the real ctr. The daemon starts the shim itself and groups containers per namespace. Namespaces are
 * this test's own: runc's state root ({@code /run/containerd/runc/<ns>}) is shared by every daemon here.
 */
class DaemonStartedShimTest {
    static final String IMAGE = "docker.io/library/busybox:latest";
    static Path dir;
    static Path home;
    static Process daemon;
    static String address;

    @BeforeAll
    static void start() throws Exception {
        dir = Files.createTempDirectory(Path.of("/tmp"), "jcds");
        address = dir.resolve("d.sock").toString();
        home = Files.createDirectories(dir.resolve("home/bin"));
        Files.createSymbolicLink(home.resolve("jcontainerd-shim-runc-v2"), JavaShim.launcher());
        // the default mapping is not configured; two more runtimes on the same shim exercise other policies
        Files.writeString(dir.resolve("config.toml"), """
                version = 2
                [plugins."io.containerd.runtime.v2.task".runtimes."io.containerd.quick.v2"]
                  shim_binary = "%1$s"
                  shim_group = "container"
                  shim_idle_timeout = "1s"
                [plugins."io.containerd.runtime.v2.task".runtimes."io.containerd.eager.v2"]
                  shim_binary = "%1$s"
                  shim_group = "namespace"
                """.formatted(home.resolve("jcontainerd-shim-runc-v2")));
        startDaemon();
        for (String ns : List.of("ds-default", "ds-g1", "ds-g2", "ds-crash", "ds-restart")) {
            Ctr.run(address, "-n", ns, "images", "import", TestImages.busybox().resolve("busybox-docker.tar").toString()).assertOk();
        }
    }

    static void startDaemon() throws Exception {
        Path launcher = Path.of(System.getProperty("user.dir")).resolveSibling("bin").resolve("jcontainerd");
        ProcessBuilder pb = new ProcessBuilder(launcher.toString(), "--config", dir.resolve("config.toml").toString(),
                "--root", dir.resolve("root").toString(), "--state", dir.resolve("state").toString(), "--address", address)
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("daemon.log").toFile()));
        pb.environment().put("JCONTAINERD_JAVA_OPTS", "-Djcontainerd.home=" + home.getParent());
        daemon = pb.start();
        await(60, () -> {
            if (!daemon.isAlive()) throw new AssertionError("daemon exited: " + log());
            return Ctr.run(address, "version").exitCode() == 0;
        });
    }

    @AfterAll
    static void stop() throws Exception {
        if (daemon != null) {
            daemon.destroy();
            if (!daemon.waitFor(10, TimeUnit.SECONDS)) daemon.destroyForcibly().waitFor();
        }
        // shims outlive the daemon by design: stop those started for this test's daemon
        new ProcessBuilder("pkill", "-9", "-f", "--", "-address " + address + " ").start().waitFor();
        Thread.sleep(200);
        DaemonProcess.Cleanup.unmountUnder(dir);
        DaemonProcess.Cleanup.deleteTree(dir);
    }

    @AfterEach
    void removeContainers() {
        for (String ns : List.of("ds-default", "ds-g1", "ds-g2", "ds-crash", "ds-restart")) {
            for (String id : Ctr.run(address, "-n", ns, "containers", "ls", "-q").stdout().split("\\s+")) {
                if (id.isEmpty()) continue;
                Ctr.run(address, "-n", ns, "tasks", "kill", "-s", "SIGKILL", id);
                Ctr.run(address, "-n", ns, "tasks", "rm", "-f", id);
                Ctr.run(address, "-n", ns, "containers", "rm", id);
            }
        }
    }

    @Test
    void runRmEchoAndExitCodeThroughTheDefaultRuntime() throws Exception {
        var r = Ctr.run(address, "-n", "ds-default", "run", "--rm", IMAGE, "d1", "/bin/echo", "hi").assertOk();
        assertThat(r.stdout()).isEqualTo("hi\n");
        assertThat(Ctr.run(address, "-n", "ds-default", "run", "--rm", IMAGE, "d2", "/bin/sh", "-c", "exit 3").exitCode()).isEqualTo(3);
        // started by the daemon (a -socket, no start action), lingering for the namespace's next container
        List<ProcessHandle> shims = shims("ds-default");
        assertThat(shims).hasSize(1);
        assertThat(String.join(" ", shims.getFirst().info().arguments().orElseThrow())).contains("-socket ").contains("-idle-timeout 30s")
                .doesNotContain(" start");
        long pid = shims.getFirst().pid();
        Ctr.run(address, "-n", "ds-default", "run", "--rm", IMAGE, "d3", "/bin/true").assertOk();
        assertThat(shims("ds-default")).extracting(ProcessHandle::pid).containsExactly(pid);
    }

    @Test
    void detachedTaskExecKillRm() throws Exception {
        Ctr.run(address, "-n", "ds-default", "run", "-d", IMAGE, "d4", "/bin/sleep", "600").assertOk();
        assertThat(Ctr.run(address, "-n", "ds-default", "tasks", "ls").assertOk().stdout()).containsPattern("d4\\s+\\d+\\s+RUNNING");
        assertThat(Ctr.run(address, "-n", "ds-default", "tasks", "exec", "--exec-id", "e1", "d4", "/bin/echo", "inside").assertOk().stdout())
                .isEqualTo("inside\n");
        Ctr.run(address, "-n", "ds-default", "tasks", "kill", "-s", "SIGKILL", "d4").assertOk();
        await(10, () -> Ctr.run(address, "-n", "ds-default", "tasks", "ls").stdout().matches("(?s).*d4\\s+\\d+\\s+STOPPED.*"));
        Ctr.run(address, "-n", "ds-default", "tasks", "rm", "d4").assertOk();
        Ctr.run(address, "-n", "ds-default", "containers", "rm", "d4").assertOk();
        assertThat(Ctr.run(address, "-n", "ds-default", "tasks", "ls").assertOk().stdout()).doesNotContain("d4");
    }

    @Test
    void containersOfANamespaceShareOneShimAndOtherNamespacesGetTheirOwn() throws Exception {
        Ctr.run(address, "-n", "ds-g1", "run", "-d", IMAGE, "a", "/bin/sleep", "600").assertOk();
        Ctr.run(address, "-n", "ds-g1", "run", "-d", IMAGE, "b", "/bin/sleep", "600").assertOk();
        Ctr.run(address, "-n", "ds-g2", "run", "-d", IMAGE, "a", "/bin/sleep", "600").assertOk();
        assertThat(shims("ds-g1")).hasSize(1);
        assertThat(shims("ds-g2")).hasSize(1);
        assertThat(addressOf("ds-g1", "a")).isEqualTo(addressOf("ds-g1", "b")).isNotEqualTo(addressOf("ds-g2", "a"));
        // each container's processes are children of its shim (subreaper)
        long shim = shims("ds-g1").getFirst().pid();
        for (String id : List.of("a", "b")) {
            String pid = Ctr.run(address, "-n", "ds-g1", "tasks", "ls").stdout().lines().filter(l -> l.startsWith(id + " "))
                    .findFirst().orElseThrow().split("\\s+")[1];
            assertThat(ProcessHandle.of(Long.parseLong(pid)).orElseThrow().parent().orElseThrow().pid()).isEqualTo(shim);
        }
    }

    @Test
    void otherPoliciesAndIdleExit() throws Exception {
        // container policy, 1 s idle: a shim per container, gone a second after its container
        Ctr.run(address, "-n", "ds-default", "run", "-d", "--runtime", "io.containerd.quick.v2", IMAGE, "q1", "/bin/sleep", "600").assertOk();
        Ctr.run(address, "-n", "ds-default", "run", "-d", "--runtime", "io.containerd.quick.v2", IMAGE, "q2", "/bin/sleep", "600").assertOk();
        assertThat(addressOf("ds-default", "q1")).isNotEqualTo(addressOf("ds-default", "q2"));
        String socket = addressOf("ds-default", "q1").substring("unix://".length());
        Ctr.run(address, "-n", "ds-default", "tasks", "kill", "-s", "SIGKILL", "q1").assertOk();
        Ctr.run(address, "-n", "ds-default", "tasks", "kill", "-s", "SIGKILL", "q2").assertOk();
        await(10, () -> !Ctr.run(address, "-n", "ds-default", "tasks", "ls").stdout().contains("RUNNING"));
        Ctr.run(address, "-n", "ds-default", "tasks", "rm", "q1").assertOk();
        await(15, () -> !Files.exists(Path.of(socket)));
        // no idle time: the shim exits with its last container, and the next one gets a new shim, even
        // when it comes while the old one is still on its way out
        for (int i = 0; i < 4; i++) {
            var r = Ctr.run(address, "-n", "ds-default", "run", "--rm", "--runtime", "io.containerd.eager.v2", IMAGE, "e" + i, "/bin/echo", "e" + i);
            assertThat(r.assertOk().stdout()).isEqualTo("e" + i + "\n");
        }
    }

    @Test
    void groupShimCrashReportsEveryTaskExitedAndCleansUp() throws Exception {
        for (String id : List.of("c1", "c2", "c3")) {
            Ctr.run(address, "-n", "ds-crash", "run", "-d", IMAGE, id, "/bin/sleep", "600").assertOk();
        }
        List<ProcessHandle> shims = shims("ds-crash");
        assertThat(shims).hasSize(1);
        Process events = Ctr.start(address, "events");
        ByteArrayOutputStream seen = new ByteArrayOutputStream();
        Thread reader = Thread.ofVirtual().start(() -> {
            try {
                events.getInputStream().transferTo(seen);
            } catch (IOException ignored) {
                // ended
            }
        });
        try {
            Thread.sleep(300); // the subscription is set up
            new ProcessBuilder("kill", "-9", Long.toString(shims.getFirst().pid())).start().waitFor();
            await(30, () -> Ctr.run(address, "-n", "ds-crash", "tasks", "ls", "-q").stdout().isBlank());
            await(10, () -> {
                String text;
                synchronized (seen) {
                    text = seen.toString(StandardCharsets.UTF_8);
                }
                return List.of("c1", "c2", "c3").stream().allMatch(id ->
                        text.lines().anyMatch(l -> l.contains("/tasks/exit") && l.contains("\"" + id + "\""))
                                && text.lines().anyMatch(l -> l.contains("/tasks/delete") && l.contains("\"" + id + "\"")));
            });
            for (String id : List.of("c1", "c2", "c3")) {
                assertThat(dir.resolve("state/io.containerd.runtime.v2.task/ds-crash/" + id)).doesNotExist();
                Ctr.run(address, "-n", "ds-crash", "containers", "rm", id).assertOk();
            }
            // the containers' processes went with the cleanup (runc delete --force)
            await(10, () -> List.of("c1", "c2", "c3").stream().noneMatch(id -> Files.exists(Path.of("/run/containerd/runc/ds-crash", id))));
            // and the group gets a new shim
            Ctr.run(address, "-n", "ds-crash", "run", "--rm", IMAGE, "c4", "/bin/echo", "again").assertOk();
        } finally {
            events.destroy();
            reader.join(2000);
        }
    }

    @Test
    void daemonKilledAndRestartedReconnectsToGroupedTasks() throws Exception {
        Ctr.run(address, "-n", "ds-restart", "run", "-d", IMAGE, "r1", "/bin/sleep", "600").assertOk();
        Ctr.run(address, "-n", "ds-restart", "run", "-d", IMAGE, "r2", "/bin/sleep", "600").assertOk();
        long shim = shims("ds-restart").getFirst().pid();
        daemon.destroyForcibly().waitFor();
        startDaemon();
        String ls = Ctr.run(address, "-n", "ds-restart", "tasks", "ls").assertOk().stdout();
        assertThat(ls).containsPattern("r1\\s+\\d+\\s+RUNNING").containsPattern("r2\\s+\\d+\\s+RUNNING");
        assertThat(Ctr.run(address, "-n", "ds-restart", "tasks", "exec", "--exec-id", "x", "r2", "/bin/echo", "back").assertOk().stdout())
                .isEqualTo("back\n");
        // the group's shim is reused, not duplicated
        Ctr.run(address, "-n", "ds-restart", "run", "-d", IMAGE, "r3", "/bin/sleep", "600").assertOk();
        assertThat(shims("ds-restart")).extracting(ProcessHandle::pid).containsExactly(shim);
        Ctr.run(address, "-n", "ds-restart", "tasks", "kill", "-s", "SIGKILL", "r1").assertOk();
        await(10, () -> Ctr.run(address, "-n", "ds-restart", "tasks", "ls").stdout().matches("(?s).*r1\\s+\\d+\\s+STOPPED.*"));
        Ctr.run(address, "-n", "ds-restart", "tasks", "rm", "r1").assertOk();
        assertThat(Ctr.run(address, "-n", "ds-restart", "tasks", "ls", "-q").stdout().lines().toList()).containsExactlyInAnyOrder("r2", "r3");
    }

    /** The long-lived shims (not start/delete runs) of this daemon serving {@code ns}. */
    static List<ProcessHandle> shims(String ns) {
        return ProcessHandle.allProcesses().filter(p -> {
            String cmd = p.info().commandLine().orElse("");
            return cmd.contains(Main.class.getName()) && cmd.contains("-address " + address + " ") && cmd.contains("-namespace " + ns + " ")
                    && cmd.contains("-socket ") && !cmd.startsWith("/usr/bin/setsid");
        }).toList();
    }

    static String addressOf(String ns, String id) throws IOException {
        return Files.readString(dir.resolve("state/io.containerd.runtime.v2.task").resolve(ns).resolve(id).resolve("address")).strip();
    }

    static String log() {
        try {
            return Files.readString(dir.resolve("daemon.log"));
        } catch (IOException e) {
            return e.toString();
        }
    }

    static void await(int seconds, BooleanSupplier done) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("not within " + seconds + " s; daemon log:\n" + log());
            Thread.sleep(50);
        }
    }
}
