package io.jcontainerd.client.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.jcontainerd.testing.Ctr;
import io.jcontainerd.testing.DaemonProcess;
import io.jcontainerd.testing.Registry;
import io.jcontainerd.testing.TestImages;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** jctr's commands against a real daemon and registry, cross-checked with the real ctr. */
class JctrTest {
    static DaemonProcess daemon;
    static Registry registry;

    @BeforeAll
    static void start() throws Exception {
        // jctr, like ctr 1.6, holds no lease on snapshots and blobs it makes; automatic collections are
        // kept out of the way so the commands see what they just created
        daemon = DaemonProcess.start(DaemonProcess.WITHOUT_AUTOMATIC_GC);
        registry = Registry.start();
        TestImages.push(registry.host(), "library/busybox:latest");
    }

    @AfterAll
    static void stop() {
        if (registry != null) registry.close();
        if (daemon != null) daemon.close();
    }

    record Result(int code, String out, String err) {
        Result ok() {
            assertThat(code).as("exit code; stderr: " + err + "; stdout: " + out).isZero();
            return this;
        }
    }

    static Result jctr(String... args) {
        return jctr(Map.of("CONTAINERD_ADDRESS", daemon.address()), args);
    }

    static Result jctr(Map<String, String> env, String... args) {
        StringWriter o = new StringWriter();
        StringWriter e = new StringWriter();
        int code = Jctr.run(args, env, new PrintWriter(o), new PrintWriter(e));
        return new Result(code, o.toString(), e.toString());
    }

    @Test
    void versionPluginsNamespacesLeases() {
        assertThat(jctr("version").ok().out()).contains("Server:").contains("UUID:");
        assertThat(jctr("plugins", "ls").ok().out()).startsWith("TYPE").contains("io.containerd.content.v1").contains("ok");
        jctr("-n", "x", "namespaces", "create", "cli-ns", "a=b").ok();
        assertThat(jctr("namespaces", "ls").ok().out()).contains("cli-ns").contains("a=b");
        jctr("namespaces", "label", "cli-ns", "a=").ok();
        // a bare key is key=true, as ctr's label arguments
        jctr("namespaces", "label", "cli-ns", "flag").ok();
        assertThat(jctr("namespaces", "ls").ok().out()).contains("flag=true").doesNotContain("a=b");
        jctr("namespaces", "rm", "cli-ns").ok();
        assertThat(jctr("namespaces", "ls", "-q").ok().out()).doesNotContain("cli-ns");

        String id = jctr("-n", "cli", "leases", "create", "--id", "l1", "k=v").ok().out().strip();
        assertThat(id).isEqualTo("l1");
        assertThat(jctr("-n", "cli", "leases", "ls").ok().out()).contains("l1").contains("containerd.io/gc.expire");
        jctr("-n", "cli", "leases", "rm", "l1").ok();
        assertThat(jctr("-n", "cli", "leases", "ls", "-q").ok().out()).isBlank();

        // errors: server message, non-zero exit
        Result r = jctr("namespaces", "rm", "no-such-ns");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).startsWith("jctr: ");
        Result bad = jctr("images", "pull", "Invalid Ref");
        assertThat(bad.code()).isEqualTo(1);
        assertThat(bad.err()).contains("invalid reference format");
        assertThat(jctr("images", "frobnicate").code()).isEqualTo(2);
    }

    @Test
    void imagesPullCheckTagPushExportImportRm() throws Exception {
        String ref = registry.host() + "/library/busybox:latest";
        Map<String, String> env = Map.of("CONTAINERD_ADDRESS", daemon.address(), "CONTAINERD_NAMESPACE", "cli-img");
        Result pull = jctr(env, "images", "pull", "--plain-http", "--hosts-dir", "/nonexistent", "--print-chainid", ref).ok();
        assertThat(pull.out()).contains("resolving").contains("done:").contains("image chain ID: sha256:");
        assertThat(jctr(env, "images", "ls").ok().out()).contains(ref).contains("linux/amd64");
        assertThat(Ctr.run(daemon.address(), "-n", "cli-img", "images", "check").assertOk().stdout()).contains("complete");
        Result check = jctr(env, "images", "check").ok();
        assertThat(check.out()).contains("complete (3/3)").contains("true");
        assertThat(jctr(env, "snapshots", "ls").ok().out()).contains("Committed");
        assertThat(jctr(env, "content", "ls").ok().out()).contains("containerd.io/gc.ref.content.l.0");

        jctr(env, "images", "tag", ref, "example.com/tagged:1").ok();
        assertThat(jctr(env, "images", "label", "example.com/tagged:1", "x=y").ok().out()).contains("x=y");
        String pushed = registry.host() + "/mine/busybox:v1";
        jctr(env, "images", "push", "--plain-http", "--hosts-dir", "/nonexistent", pushed, "example.com/tagged:1").ok();
        Ctr.run(daemon.address(), "-n", "cli-back", "images", "pull", "--plain-http", pushed).assertOk();

        Path out = daemon.root().getParent().resolve("cli-export.tar");
        jctr(env, "images", "export", out.toString(), ref).ok();
        assertThat(Files.size(out)).isGreaterThan(1000);
        Ctr.run(daemon.address(), "-n", "cli-ctr-imp", "images", "import", out.toString()).assertOk();
        assertThat(Ctr.run(daemon.address(), "-n", "cli-ctr-imp", "images", "ls", "-q").assertOk().stdout()).contains(ref);
        Map<String, String> env2 = Map.of("CONTAINERD_ADDRESS", daemon.address(), "CONTAINERD_NAMESPACE", "cli-imp");
        assertThat(jctr(env2, "images", "import", TestImages.busybox().resolve("busybox-docker.tar").toString()).ok().out())
                .contains("docker.io/library/busybox:latest");

        jctr(env, "images", "rm", "--sync", ref, "example.com/tagged:1").ok();
        assertThat(jctr(env, "images", "ls", "-q").ok().out()).isBlank();
        assertThat(jctr(env, "content", "ls", "-q").ok().out()).isBlank();

        // a namespace with no such image, and an unreachable registry: exit 1 with a message
        Result missing = jctr(env, "images", "pull", "--plain-http", "--hosts-dir", "/nonexistent", registry.host() + "/library/absent:1");
        assertThat(missing.code()).isEqualTo(1);
        assertThat(missing.err()).contains("not found");
        assertThat(jctr(env, "images", "ls", "-q").ok().out()).isBlank();
    }

    @Test
    void contentAndSnapshotsCommands() throws Exception {
        Map<String, String> env = Map.of("CONTAINERD_ADDRESS", daemon.address(), "CONTAINERD_NAMESPACE", "cli-snap",
                "CONTAINERD_SNAPSHOTTER", "native");
        jctr(env, "snapshots", "prepare", "k1").ok();
        jctr(env, "snapshots", "commit", "c1", "k1").ok();
        jctr(env, "snapshots", "--snapshotter", "native", "view", "v1", "c1").ok();
        String ls = jctr(env, "snapshots", "ls").ok().out();
        assertThat(ls).contains("c1").contains("Committed").contains("v1").contains("View");
        assertThat(jctr(env, "snapshots", "info", "c1").ok().out()).contains("\"Kind\":\"Committed\"");
        jctr(env, "snapshots", "label", "c1", "z=1").ok();
        assertThat(jctr(env, "snapshots", "info", "c1").ok().out()).contains("\"z\":\"1\"");
        assertThat(jctr(env, "snapshots", "usage").ok().out()).contains("c1");
        assertThat(jctr(env, "snapshots", "mounts", "/mnt", "v1").ok().out()).startsWith("mount -t bind");
        jctr(env, "snapshots", "rm", "v1", "c1").ok();
        assertThat(Ctr.run(daemon.address(), "-n", "cli-snap", "snapshots", "--snapshotter", "native", "ls").assertOk().stdout())
                .doesNotContain("c1");
        assertThat(jctr(env, "content", "active").ok().out()).startsWith("REF");
    }
}
