package io.jcontainerd.runtime.v2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jcontainerd.config.Config;
import io.jcontainerd.config.ConfigDecoder;
import io.jcontainerd.runtime.Timeouts;
import io.jcontainerd.errdefs.ContainerdException;
import io.jcontainerd.errdefs.ErrorKind;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bundle layout, shim address parsing and shim binary resolution, without running a shim. */
class RuntimeV2UnitTest {
    @TempDir
    Path tmp;

    static final String SPEC = "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},\"process\":{\"args\":[\"sh\"]}}";

    @Test
    void bundleLayoutAndDelete() throws Exception {
        Path root = tmp.resolve("root");
        Path state = tmp.resolve("state");
        Bundle b = Bundle.create(root, state, "ns1", "c1", SPEC.getBytes(StandardCharsets.UTF_8));
        assertThat(b.path()).isEqualTo(state.resolve("ns1/c1"));
        assertThat(Files.readString(b.file("config.json"))).isEqualTo(SPEC); // verbatim
        assertThat(b.rootfs()).isDirectory();
        assertThat(Files.readSymbolicLink(b.file("work"))).isEqualTo(root.resolve("ns1/c1"));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(b.path()))).isEqualTo("rwx------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(state.resolve("ns1")))).isEqualTo("rwx--x--x");

        assertThatThrownBy(() -> Bundle.create(root, state, "ns1", "c1", SPEC.getBytes(StandardCharsets.UTF_8)))
                .isInstanceOfSatisfying(ContainerdException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.ALREADY_EXISTS));
        assertThat(b.path()).exists(); // the failed create left the existing bundle alone
        assertThatThrownBy(() -> Bundle.create(root, state, "ns1", "bad/id", SPEC.getBytes(StandardCharsets.UTF_8)))
                .isInstanceOfSatisfying(ContainerdException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT);
                    assertThat(e.getMessage()).startsWith("invalid task id bad/id");
                });

        b.delete();
        assertThat(b.path()).doesNotExist();
        assertThat(root.resolve("ns1/c1")).doesNotExist();
        assertThat(state.resolve("ns1/.c1")).doesNotExist();
        b.delete(); // idempotent
    }

    @Test
    void userNamespacedSpecGivesTheMappedRootGroupAccess() throws Exception {
        String spec = "{\"linux\":{\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":1}],"
                + "\"gidMappings\":[{\"containerID\":1,\"hostID\":5000,\"size\":1},{\"size\":1,\"hostID\":4242,\"containerID\":0}]}}";
        assertThat(Bundle.remappedGid(spec.getBytes(StandardCharsets.UTF_8))).isEqualTo(4242);
        assertThat(Bundle.remappedGid(SPEC.getBytes(StandardCharsets.UTF_8))).isZero();
        assertThatThrownBy(() -> Bundle.remappedGid("[1]".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOfSatisfying(ContainerdException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT));
        Bundle b = Bundle.create(tmp.resolve("r"), tmp.resolve("s"), "ns", "u1", spec.getBytes(StandardCharsets.UTF_8));
        assertThat(Files.getAttribute(b.path(), "unix:gid")).isEqualTo(4242);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(b.path()))).isEqualTo("rwx--x---");
        b.delete();
    }

    @Test
    void shimAddressesBareAndJson() throws Exception {
        assertThat(ShimBinary.parseAddress("unix:///run/containerd/s/abc")).isEqualTo("unix:///run/containerd/s/abc");
        assertThat(ShimBinary.parseAddress("{\"version\":2,\"address\":\"unix:///run/x.sock\",\"protocol\":\"ttrpc\"}"))
                .isEqualTo("unix:///run/x.sock");
        assertThatThrownBy(() -> ShimBinary.parseAddress("{\"version\":3,\"address\":\"unix:///x\",\"protocol\":\"ttrpc\"}"))
                .hasMessageContaining("unsupported shim version 3");
        assertThatThrownBy(() -> ShimBinary.parseAddress("{\"version\":2,\"address\":\"unix:///x\",\"protocol\":\"grpc\"}"))
                .hasMessageContaining("only ttrpc");
        assertThatThrownBy(() -> ShimBinary.parseAddress("")).isInstanceOf(IOException.class);
        assertThat(ShimBinary.socketPath("unix:///run/x.sock")).isEqualTo(Path.of("/run/x.sock"));
        assertThat(ShimBinary.socketPath("/run/y.sock")).isEqualTo(Path.of("/run/y.sock"));
        assertThatThrownBy(() -> ShimBinary.socketPath("unix://@abstract")).isInstanceOf(IOException.class);

        Bundle b = Bundle.create(tmp.resolve("r"), tmp.resolve("s"), "ns", "a1", SPEC.getBytes(StandardCharsets.UTF_8));
        Files.writeString(b.file("address"), "unix:///old.sock");
        assertThat(TaskManager.readAddress(b)).isEqualTo("unix:///old.sock");
        Files.writeString(b.file("bootstrap.json"), "{\"version\":2,\"address\":\"unix:///new.sock\",\"protocol\":\"ttrpc\"}");
        assertThat(TaskManager.readAddress(b)).isEqualTo("unix:///new.sock");
    }

    @Test
    void shimBinaryResolution() throws Exception {
        assertThat(TaskManager.binaryName("io.containerd.runc.v2")).isEqualTo("containerd-shim-runc-v2");
        assertThat(TaskManager.binaryName("io.containerd.kata.v2")).isEqualTo("containerd-shim-kata-v2");
        assertThat(TaskManager.binaryName("runc")).isNull();

        Path custom = tmp.resolve("my-shim");
        Files.writeString(custom, "#!/bin/sh\n");
        Files.setPosixFilePermissions(custom, PosixFilePermissions.fromString("rwxr-xr-x"));
        RuntimeConfig cfg = ConfigDecoder.decode(Map.of("runtimes", Map.of(
                "io.containerd.custom.v1", Map.of("shim_binary", custom.toString()),
                "io.containerd.sh.v1", Map.of("shim_binary", "sh"))), RuntimeConfig.defaults());
        // the default entry survives a config that adds others
        assertThat(cfg.runtimes()).containsKey(RuntimeConfig.RUNC_V2);
        TaskManager m = new TaskManager(tmp.resolve("root"), tmp.resolve("state"), "/x.sock", "/x.sock.ttrpc", "/bin/true", false,
                cfg, Timeouts.defaults(), (ns, topic, ev) -> { }, (ns, id) -> { throw new IllegalStateException(); }, Clock.systemUTC(), System.err);
        assertThat(m.resolveRuntimePath("io.containerd.custom.v1")).isEqualTo(custom);
        assertThat(m.resolveRuntimePath("io.containerd.sh.v1").getFileName().toString()).isEqualTo("sh");
        assertThat(m.resolveRuntimePath(custom.toString())).isEqualTo(custom);
        if (Files.isExecutable(Path.of("/usr/bin/containerd-shim-runc-v2"))) {
            assertThat(m.resolveRuntimePath(RuntimeConfig.RUNC_V2)).isEqualTo(Path.of("/usr/bin/containerd-shim-runc-v2"));
        }
        assertThatThrownBy(() -> m.resolveRuntimePath("io.containerd.nosuch.v9"))
                .isInstanceOfSatisfying(ContainerdException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.NOT_FOUND);
                    assertThat(e.getMessage()).contains("containerd-shim-nosuch-v9");
                });
        assertThatThrownBy(() -> m.resolveRuntimePath("runc"))
                .isInstanceOfSatisfying(ContainerdException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT));
        assertThatThrownBy(() -> m.resolveRuntimePath("/no/such/shim"))
                .isInstanceOfSatisfying(ContainerdException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.NOT_FOUND));
        assertThat(m.tasks(null)).isEmpty();
        m.close();
    }

    @Test
    void loadingRemovesEmptyBundlesAndOrphanedWorkDirs() throws Exception {
        Path root = tmp.resolve("root");
        Path state = tmp.resolve("state");
        Files.createDirectories(state.resolve("ns1/empty"));
        Files.createDirectories(root.resolve("ns1/orphan"));
        Files.createDirectories(state.resolve("ns1/.hidden"));
        TaskManager m = new TaskManager(root, state, "/x.sock", "/x.sock.ttrpc", "/bin/true", false, RuntimeConfig.defaults(), Timeouts.defaults(),
                (ns, topic, ev) -> { }, (ns, id) -> { throw new IllegalStateException(); }, Clock.systemUTC(), System.err);
        m.loadExisting();
        assertThat(state.resolve("ns1/empty")).doesNotExist();
        assertThat(root.resolve("ns1/orphan")).doesNotExist();
        assertThat(state.resolve("ns1/.hidden")).exists();
        assertThat(m.tasks("ns1")).isEmpty();
    }

    @Test
    void publishBinaryRunsThisJvm() throws Exception {
        Path script = TaskManagerPlugin.writePublishBinary(tmp);
        String text = Files.readString(script);
        assertThat(text).startsWith("#!/bin/sh\nexec '" + System.getProperty("java.home"));
        assertThat(text).contains("io.jcontainerd.cmd.Main \"$@\"");
        assertThat(Files.isExecutable(script)).isTrue();
        Process p = new ProcessBuilder(script.toString(), "--version").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).isZero();
        assertThat(out).startsWith("jcontainerd ");
    }

    @Test
    void defaultConfigHasContainerdKeys() {
        var table = ConfigDecoder.encode(RuntimeConfig.defaults());
        assertThat(table).containsKeys("platforms", "sched_core", "runtimes");
        assertThat(table.get("platforms")).isEqualTo(List.of(RuntimeConfig.defaultPlatform()));
        assertThat(Config.defaults()).isNotNull();
    }
}
