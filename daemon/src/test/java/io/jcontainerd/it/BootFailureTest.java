package io.jcontainerd.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.jcontainerd.testing.Ctr;
import io.jcontainerd.testing.DaemonProcess;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Boot-time refusals: each has a clear message and exit code 1, and never disturbs a running daemon. */
class BootFailureTest {

    record Exit(int code, String output) {}

    static Exit runToExit(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            throw new AssertionError("did not exit: " + cmd);
        }
        return new Exit(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }

    @Test
    void secondDaemonOnSameSocketFailsAndFirstKeepsServing() throws Exception {
        try (DaemonProcess d = DaemonProcess.start()) {
            Path otherRoot = Files.createTempDirectory("jcd-second");
            try {
                List<String> cmd = d.command(otherRoot.resolve("root"), otherRoot.resolve("state"), d.address());
                Exit e = runToExit(cmd);
                assertThat(e.code()).isEqualTo(1);
                assertThat(e.output()).contains("already in use");
                Ctr.run(d.address(), "version").assertOk();
                assertThat(d.socket()).exists();
            } finally {
                DaemonProcess.Cleanup.deleteTree(otherRoot);
            }
        }
    }

    @Test
    void malformedConfigNamesFileLineAndKey() throws Exception {
        try (DaemonProcess d = DaemonProcess.start()) {
            Path cfg = Files.createTempFile("jcd", ".toml");
            try {
                Files.writeString(cfg, "version = 2\nroot = \"/tmp/x\"\n[grpc]\nuid = \"nobody\"\n");
                Exit e = runToExit(List.of(DaemonProcess.JAVA, "-cp", System.getProperty("java.class.path"),
                        "io.jcontainerd.cmd.Main", "--config", cfg.toString(), "--address", d.address() + ".other"));
                assertThat(e.code()).isEqualTo(1);
                assertThat(e.output()).contains(cfg.toString()).contains(":4").contains("grpc.uid");

                Files.writeString(cfg, "version = 2\nroot = \"unterminated\n");
                e = runToExit(List.of(DaemonProcess.JAVA, "-cp", System.getProperty("java.class.path"),
                        "io.jcontainerd.cmd.Main", "--config", cfg.toString(), "--address", d.address() + ".other"));
                assertThat(e.code()).isEqualTo(1);
                assertThat(e.output()).contains(cfg.toString()).contains(":2");
                Ctr.run(d.address(), "version").assertOk();
            } finally {
                Files.deleteIfExists(cfg);
            }
        }
    }

    @Test
    void unknownFlagIsAnError() throws Exception {
        Exit e = runToExit(List.of(DaemonProcess.JAVA, "-cp", System.getProperty("java.class.path"),
                "io.jcontainerd.cmd.Main", "--no-such-flag"));
        assertThat(e.code()).isEqualTo(1);
        assertThat(e.output()).contains("--no-such-flag");
    }

    @Test
    void rootEqualToStateIsRefused() throws Exception {
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "jcd");
        try {
            Exit e = runToExit(List.of(DaemonProcess.JAVA, "-cp", System.getProperty("java.class.path"),
                    "io.jcontainerd.cmd.Main", "--config", dir.resolve("none.toml").toString(),
                    "--root", dir.resolve("x").toString(), "--state", dir.resolve("x").toString(),
                    "--address", dir.resolve("s.sock").toString()));
            assertThat(e.code()).isEqualTo(1);
            assertThat(e.output()).contains("root and state must be different paths");
        } finally {
            DaemonProcess.Cleanup.deleteTree(dir);
        }
    }

    @Test
    void requiredPluginThatIsNotOkAbortsBoot() throws Exception {
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "jcd");
        try {
            Path cfg = dir.resolve("c.toml");
            Files.writeString(cfg, """
                    version = 2
                    disabled_plugins = ["io.containerd.grpc.v1.version"]
                    required_plugins = ["io.containerd.grpc.v1.version"]
                    """);
            Exit e = runToExit(List.of(DaemonProcess.JAVA, "-cp", System.getProperty("java.class.path"),
                    "io.jcontainerd.cmd.Main", "--config", cfg.toString(),
                    "--root", dir.resolve("r").toString(), "--state", dir.resolve("st").toString(),
                    "--address", dir.resolve("s.sock").toString()));
            assertThat(e.code()).isEqualTo(1);
            assertThat(e.output()).contains("required plugins not initialized").contains("io.containerd.grpc.v1.version");
            assertThat(dir.resolve("s.sock")).doesNotExist();
        } finally {
            DaemonProcess.Cleanup.deleteTree(dir);
        }
    }

    @Test
    void disabledPluginIsNotLoaded() throws Exception {
        try (DaemonProcess d = DaemonProcess.start("version = 2\ndisabled_plugins = [\"io.containerd.grpc.v1.healthcheck\"]\n")) {
            var r = Ctr.run(d.address(), "plugins", "ls").assertOk();
            assertThat(r.stdout()).doesNotContain("healthcheck").contains("introspection");
        }
    }
}
