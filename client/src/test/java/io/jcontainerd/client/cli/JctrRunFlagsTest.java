package io.jcontainerd.client.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.jcontainerd.client.Json;
import io.jcontainerd.testing.Ctr;
import io.jcontainerd.testing.DaemonProcess;
import io.jcontainerd.testing.TestImages;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The ctr 1.6 flags of jctr run / containers create beyond the basic ones: each flag set gives the
 * stored spec (and container record) the real ctr gives for the same flags, and a few are watched
 * at work in running containers (real daemon, Debian's runc shim, runc).
 */
class JctrRunFlagsTest {
    static final String IMAGE = "docker.io/library/busybox:latest";
    static final String NS = "jctrflags";
    static DaemonProcess daemon;
    static Path tmp;
    final List<String> cleanups = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        daemon = DaemonProcess.start(DaemonProcess.WITHOUT_AUTOMATIC_GC);
        // a user namespace's root (a host uid other than 0) must reach the bundle's rootfs, as under
        // /run/containerd (0711): the fixture's temporary directory is 0700
        Files.setPosixFilePermissions(daemon.state().getParent(), java.nio.file.attribute.PosixFilePermissions.fromString("rwx--x--x"));
        tmp = Files.createTempDirectory("jctr-flags");
        jctr("images", "import", TestImages.busybox().resolve("busybox-docker.tar").toString()).ok();
    }

    @AfterAll
    static void stop() throws Exception {
        if (daemon != null) daemon.close();
        // runc leaves the parents of the cgroups it made: /<namespace> (default paths) and /<namespace>/x (--cgroup)
        removeCgroups("/" + NS + "/x");
        if (tmp != null) {
            DaemonProcess.Cleanup.unmountUnder(tmp);
            DaemonProcess.Cleanup.deleteTree(tmp);
        }
    }

    /** Containers a test made are killed and removed whatever happened. */
    @AfterEach
    void cleanup() {
        for (String id : cleanups.reversed()) {
            jctr("tasks", "kill", "--all", "-s", "KILL", id);
            jctr("tasks", "rm", "-f", id);
            jctr("containers", "rm", id);
        }
        cleanups.clear();
    }

    record Result(int code, String out, String err) {
        Result ok() {
            assertThat(code).as("exit code; stderr: " + err + "; stdout: " + out).isZero();
            return this;
        }
    }

    static Result jctr(String... args) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        int code = Jctr.run(args, Map.of("CONTAINERD_ADDRESS", daemon.address(), "CONTAINERD_NAMESPACE", NS),
                InputStream.nullInputStream(), o, e);
        return new Result(code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
    }

    static Ctr.Result ctr(String... args) {
        List<String> a = new ArrayList<>(List.of("-n", NS));
        a.addAll(List.of(args));
        return Ctr.run(daemon.address(), a.toArray(String[]::new));
    }

    private int seq;

    /** A fresh container id, removed after the test. */
    private String id(String prefix) {
        String id = prefix + (++seq);
        cleanups.add(id);
        return id;
    }

    private static List<String> concat(List<String> a, String... b) {
        List<String> out = new ArrayList<>(a);
        out.addAll(List.of(b));
        return out;
    }

    private static Object spec(String id, String as) {
        String text = ctr("containers", "info", "--spec", id).assertOk().stdout();
        return Json.parse(text.replace("/" + NS + "/" + id + "\"", "/" + NS + "/" + as + "\""));
    }

    /** A record as ctr shows it ({@code containers info ID}, {@code snapshots info ID}), times left out, the id replaced by X. */
    private static String info(String what, String id) {
        String text = ctr(what, "info", id).assertOk().stdout();
        return String.join("\n", text.lines().filter(l -> !l.contains("CreatedAt") && !l.contains("UpdatedAt")
                        && !l.contains("\"Created\"") && !l.contains("\"Updated\""))
                .map(l -> l.replace("\"" + id + "\"", "\"X\"").replace("/" + id + "\"", "/X\"")).toList());
    }

    /**
     * Creates a container with {@code flags} through ctr and through jctr ({@code run}: run a task
     * that exits at once and keep the container; else containers create); returns their ids.
     */
    private String[] createBoth(boolean run, List<String> flags, boolean mustStart) {
        String theirs = id("c");
        String ours = id("j");
        List<String> cmd = run ? List.of("run") : List.of("containers", "create");
        String[] flagArray = flags.toArray(String[]::new);
        Ctr.Result c = ctr(concat(concat(cmd, flagArray), IMAGE, theirs, "true").toArray(String[]::new));
        Result j = jctr(concat(concat(cmd, flagArray), IMAGE, ours, "true").toArray(String[]::new));
        if (mustStart) {
            assertThat(c.exitCode()).as(c.stderr()).isZero();
            j.ok();
        }
        return new String[] {theirs, ours};
    }

    /** Both clients store the same spec, container record and snapshot for {@code flags}. */
    private void assertSameAsCtr(boolean run, List<String> flags) {
        String[] ids = createBoth(run, flags, true);
        assertThat(spec(ids[1], "X")).as("spec with " + flags).isEqualTo(spec(ids[0], "X"));
        assertThat(info("containers", ids[1])).as("container with " + flags).isEqualTo(info("containers", ids[0]));
        assertThat(info("snapshots", ids[1])).as("snapshot with " + flags).isEqualTo(info("snapshots", ids[0]));
    }

    @Test
    void containerFlagsGiveCtrsSpec() throws Exception {
        Path envFile = Files.writeString(tmp.resolve("env"), "A=1\nB=two words\r\n# not=a comment\n\nPATH=/x:/bin\nA=3\n");
        Path profile = Files.writeString(tmp.resolve("seccomp.json"), """
                {"defaultAction": "SCMP_ACT_ALLOW", "DefaultErrnoRet": 1, "architectures": ["SCMP_ARCH_X86_64"], "ignored": 5,
                 "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
                              {"action": "SCMP_ACT_LOG", "args": [{"index": 1, "value": 2, "valueTwo": 0, "op": "SCMP_CMP_EQ"},
                                                                  {"index": 0, "value": 5, "valueTwo": 7, "op": "SCMP_CMP_MASKED_EQ"}]}]}
                """);
        assertSameAsCtr(false, List.of("--env-file", envFile.toString(), "--env", "A=2", "--annotation", "a=b",
                "--annotation", "c=d=e", "--label", "a=label", "--cap-add", "CAP_SYS_ADMIN", "--cap-drop", "CAP_CHOWN",
                "--allow-new-privs", "--memory-limit", "10000000", "--device", "/dev/null", "--device", "/dev/cpu",
                "--with-ns", "network:/proc/1/ns/net", "--rootfs-propagation", "rshared", "--rdt-class", "gold",
                "--apparmor-profile", "unconfined", "--cpu-quota", "5000", "--cpu-period", "100000",
                "--snapshotter-label", "s=1", "--snapshotter-label", "bare"));
        assertSameAsCtr(false, List.of("--seccomp"));
        assertSameAsCtr(false, List.of("--seccomp", "--cap-drop", "CAP_SYS_CHROOT", "--cap-add", "CAP_SYS_PTRACE", "--cap-add", "CAP_BPF"));
        assertSameAsCtr(false, List.of("--seccomp", "--seccomp-profile", profile.toString()));
        assertSameAsCtr(false, List.of("--runtime", "io.containerd.other.v1", "--runtime-config-path", "/etc/other.toml"));
        // the host's /dev is read twice: a device made in between (a loop device of another test) may differ, so retry
        for (int attempt = 1; ; attempt++) {
            try {
                assertSameAsCtr(false, List.of("--privileged", "--seccomp"));
                break;
            } catch (AssertionError e) {
                if (attempt == 3) throw e;
                cleanup();
            }
        }
    }

    @Test
    void runFlagsGiveCtrsSpec() {
        assertSameAsCtr(true, List.of());
        assertSameAsCtr(true, List.of("--cgroup", "/jctrflags/x", "--cpus", "1.5", "--cpu-shares", "512", "--no-pivot"));
        assertSameAsCtr(true, List.of("--cgroup", "", "--cpu-shares", "0", "--cpu-quota", "1000"));
        assertSameAsCtr(true, List.of("--uidmap", "0:100000:65536", "--gidmap", "0:200000:65536"));
        assertSameAsCtr(true, List.of("--uidmap", "0:100000:65536"));
        assertSameAsCtr(true, List.of("--runc-binary", "/usr/sbin/runc", "--runc-root", tmp.resolve("runc-root").toString()));
        assertThat(jctr("snapshots", "ls").ok().out()).contains("-100000-200000 ");

        // mappings left to the snapshotter (overlayfs ignores them): whether the task starts does not matter here
        String[] ids = createBoth(true, List.of("--uidmap", "0:1000:65536", "--gidmap", "0:2000:65536", "--remap-labels"), false);
        assertThat(info("snapshots", ids[1])).contains("\"containerd.io/snapshot/uidmapping\": \"0:1000:65536\"")
                .isEqualTo(info("snapshots", ids[0]));
        assertThat(spec(ids[1], "X")).isEqualTo(spec(ids[0], "X"));
    }

    @Test
    void rejectsWhatCtrRejects() {
        assertThat(jctr("run", "--cap-add", "SYS_ADMIN", IMAGE, "bad1", "true").err()).contains("'CAP_' prefix");
        assertThat(jctr("run", "--seccomp-profile", "/x.json", IMAGE, "bad2", "true").err()).contains("seccomp must be set to true");
        assertThat(jctr("run", "--cpus", "1", "--cpu-quota", "10", IMAGE, "bad3", "true").err()).contains("used separately");
        assertThat(jctr("run", "--with-ns", "bogus:/x", IMAGE, "bad4", "true").err()).contains("not valid: bogus");
        assertThat(jctr("run", "--uidmap", "0:1", "--gidmap", "0:1:1", IMAGE, "bad5", "true").err()).contains("container-id:host-id:size");
        assertThat(jctr("run", "--runc-systemd-cgroup", IMAGE, "bad6", "true").err()).contains("requires --cgroup");
        assertThat(jctr("containers", "ls", "-q").ok().out()).doesNotContain("bad");
    }

    @Test
    void envFileLogUriPrivilegedSeccompAndUserNamespaceAtWork() throws Exception {
        Path envFile = Files.writeString(tmp.resolve("env-run"), "FROM_FILE=file value\nOVERRIDDEN=file\n");
        String env = jctr("run", "--rm", "--env-file", envFile.toString(), "--env", "OVERRIDDEN=flag", IMAGE, id("e"),
                "busybox", "env").ok().out();
        assertThat(env.lines()).contains("FROM_FILE=file value", "OVERRIDDEN=flag", "PATH=/bin");

        Path log = tmp.resolve("task.log");
        Result logged = jctr("run", "--rm", "--log-uri", "file://" + log, IMAGE, id("l"), "sh", "-c", "echo to-out; echo to-err >&2").ok();
        assertThat(logged.out()).isEmpty();
        assertThat(Files.readString(log)).contains("to-out\n").contains("to-err\n");

        // the host's device nodes, all capabilities, no masking: only with --privileged
        String plain = jctr("run", "--rm", IMAGE, id("p"), "sh", "-c", "ls /dev; cat /proc/self/status").ok().out();
        String privileged = jctr("run", "--rm", "--privileged", IMAGE, id("p"), "sh", "-c", "ls /dev; cat /proc/self/status").ok().out();
        assertThat(plain.lines()).doesNotContain("loop-control");
        assertThat(privileged.lines()).contains("loop-control");
        assertThat(capEff(privileged)).isGreaterThan(capEff(plain));

        assertThat(jctr("run", "--rm", IMAGE, id("s"), "cat", "/proc/self/status").ok().out()).containsPattern("Seccomp:\\s+0");
        assertThat(jctr("run", "--rm", "--seccomp", IMAGE, id("s"), "cat", "/proc/self/status").ok().out()).containsPattern("Seccomp:\\s+2");
        assertThat(jctr("run", "--rm", "--cap-drop", "CAP_CHOWN", IMAGE, id("s"), "sh", "-c", "chown 1 /bin/busybox 2>&1").out())
                .contains("Operation not permitted");

        String userns = jctr("run", "--rm", "--uidmap", "0:300000:65536", "--gidmap", "0:300000:65536", IMAGE, id("u"),
                "sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map; ls -ln /bin/busybox").ok().out();
        assertThat(userns).containsPattern("\\s0\\s+300000\\s+65536\\n\\s+0\\s+300000\\s+65536");
        assertThat(userns).containsPattern("\\s0\\s+0\\s+\\d+ .*busybox");
    }

    private static long capEff(String status) {
        return status.lines().filter(l -> l.startsWith("CapEff:")).map(l -> Long.parseUnsignedLong(l.substring(7).strip(), 16))
                .findFirst().orElseThrow();
    }

    @Test
    void cgroupFlagPlacesTheTask() throws Exception {
        String id = id("g");
        String path = "/jctrflags-" + ProcessHandle.current().pid() + "/" + id;
        jctr("run", "-d", "--cgroup", path, IMAGE, id, "sleep", "1000").ok();
        String pid = jctr("tasks", "ls").ok().out().lines().filter(l -> l.startsWith(id + " ")).findFirst().orElseThrow()
                .split("\\s+")[1];
        assertThat(Files.readAllLines(Path.of("/proc", pid, "cgroup"))).anyMatch(l -> l.endsWith(":" + path));
        jctr("tasks", "kill", "-s", "KILL", id).ok();
        awaitStopped(id);
        jctr("tasks", "rm", id).ok();
        removeCgroups(path);
    }

    private static void awaitStopped(String id) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            if (jctr("tasks", "ls").ok().out().matches("(?s).*" + id + "\\s+\\d+\\s+STOPPED.*")) return;
            Thread.sleep(50);
        }
        throw new AssertionError(id + " did not stop");
    }

    /** Removes {@code path}'s cgroup (and its parent when empty, leaf first) in every hierarchy; busy ones stay. */
    private static void removeCgroups(String path) throws Exception {
        try (Stream<Path> hierarchies = Files.list(Path.of("/sys/fs/cgroup"))) {
            for (Path h : hierarchies.toList()) {
                Path leaf = Path.of(h + path);
                for (Path p = leaf; p != null && !p.equals(h); p = p.getParent()) {
                    try {
                        Files.deleteIfExists(p);
                    } catch (java.io.IOException busyOrNotEmpty) {
                        break;
                    }
                }
            }
        }
    }
}
