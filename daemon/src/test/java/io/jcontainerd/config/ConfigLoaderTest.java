package io.jcontainerd.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
    @TempDir
    Path dir;

    private Path write(String text) throws IOException {
        Path f = dir.resolve("config.toml");
        Files.writeString(f, text);
        return f;
    }

    private ConfigException loadFails(String text) throws IOException {
        Path f = write(text);
        try {
            ConfigLoader.load(f);
        } catch (ConfigException e) {
            assertThat(e.file()).isEqualTo(f.toString());
            return e;
        }
        throw new AssertionError("expected a ConfigException for:\n" + text);
    }

    @Test
    void missingFileMeansDefaults() {
        ConfigLoader.Loaded l = ConfigLoader.load(dir.resolve("absent.toml"));
        assertThat(l.config()).isEqualTo(Config.defaults());
        assertThat(l.warnings()).isEmpty();
    }

    @Test
    void emptyFileMeansDefaults() throws IOException {
        ConfigLoader.Loaded l = ConfigLoader.load(write(""));
        assertThat(l.config()).isEqualTo(Config.defaults());
        assertThat(l.warnings()).isEmpty();
        assertThat(ConfigLoader.load(write("# only a comment\n\n")).config()).isEqualTo(Config.defaults());
    }

    @Test
    void fullFile() throws IOException {
        ConfigLoader.Loaded l = ConfigLoader.load(write("""
                version = 2
                root = "/data/root"
                state = "/data/state"
                temp = "/data/tmp"
                disabled_plugins = ["io.containerd.grpc.v1.cri"]
                required_plugins = ["io.containerd.snapshotter.v1.overlayfs"]

                [grpc]
                  address = "/run/x.sock"
                  tcp_address = "127.0.0.1:1234"
                  uid = 1000
                  gid = 1001
                  max_recv_message_size = 1024
                  max_send_message_size = 2048

                [ttrpc]
                  address = "/run/x.sock.ttrpc"
                  uid = 1
                  gid = 2

                [debug]
                  address = "/run/debug.sock"
                  uid = 3
                  gid = 4
                  level = "debug"
                  format = "json"

                [metrics]
                  address = "127.0.0.1:1338"
                  grpc_histogram = true

                [timeouts]
                  "io.containerd.timeout.shim.load" = "10s"
                  "io.containerd.timeout.custom" = "1m30s"

                [plugins."io.containerd.gc.v1.scheduler"]
                  pause_threshold = 0.02
                  deletion_threshold = 0
                  schedule_delay = "0s"

                [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
                  runtime_type = "io.containerd.runc.v2"
                """));
        Config c = l.config();
        assertThat(l.warnings()).isEmpty();
        assertThat(c.version()).isEqualTo(2);
        assertThat(c.root()).isEqualTo("/data/root");
        assertThat(c.state()).isEqualTo("/data/state");
        assertThat(c.temp()).isEqualTo("/data/tmp");
        assertThat(c.grpc()).isEqualTo(new Config.GrpcConfig("/run/x.sock", "127.0.0.1:1234", 1000, 1001, 1024, 2048));
        assertThat(c.ttrpc()).isEqualTo(new Config.TtrpcConfig("/run/x.sock.ttrpc", 1, 2));
        assertThat(c.debug()).isEqualTo(new Config.DebugConfig("/run/debug.sock", 3, 4, "debug", "json"));
        assertThat(c.metrics()).isEqualTo(new Config.MetricsConfig("127.0.0.1:1338", true));
        assertThat(c.disabledPlugins()).containsExactly("io.containerd.grpc.v1.cri");
        assertThat(c.requiredPlugins()).containsExactly("io.containerd.snapshotter.v1.overlayfs");
        // file timeouts overlay the defaults key by key
        assertThat(c.timeouts()).containsEntry("io.containerd.timeout.shim.load", "10s")
                .containsEntry("io.containerd.timeout.custom", "1m30s")
                .containsEntry("io.containerd.timeout.shim.cleanup", "5s");
        assertThat(c.plugins()).containsOnlyKeys("io.containerd.gc.v1.scheduler", "io.containerd.grpc.v1.cri");
        assertThat(c.plugins().get("io.containerd.gc.v1.scheduler"))
                .containsEntry("pause_threshold", 0.02).containsEntry("deletion_threshold", 0L)
                .containsEntry("schedule_delay", "0s");
        assertThat(c.plugins().get("io.containerd.grpc.v1.cri"))
                .isEqualTo(Map.of("containerd", Map.of("runtimes", Map.of("runc", Map.of("runtime_type", "io.containerd.runc.v2")))));
    }

    @Test
    void partialTablesKeepOtherDefaults() throws IOException {
        Config c = ConfigLoader.load(write("version = 2\n[grpc]\n  uid = 7\n")).config();
        Config d = Config.defaults();
        assertThat(c.grpc().uid()).isEqualTo(7);
        assertThat(c.grpc().address()).isEqualTo(d.grpc().address());
        assertThat(c.grpc().maxRecvMessageSize()).isEqualTo(d.grpc().maxRecvMessageSize());
        assertThat(c.root()).isEqualTo(d.root());
    }

    @Test
    void syntaxErrorNamesFileLineColumnAndKey() throws IOException {
        ConfigException e = loadFails("version = 2\nroot = \n");
        assertThat(e.line()).isEqualTo(2);
        assertThat(e.column()).isPositive();
        assertThat(e.key()).isEqualTo("root");
        assertThat(e.getMessage()).startsWith(dir.resolve("config.toml") + ":2:").contains("root: TOML syntax error");

        e = loadFails("version = 2\n[grpc]\nuid = 1\nuid = 2\n");
        assertThat(e.line()).isEqualTo(4);
        assertThat(e.key()).isEqualTo("grpc.uid");
        assertThat(e.getMessage()).containsIgnoringCase("duplicate key");

        e = loadFails("version = 2\nx.y = 1\n\nx.y = 2 # again\n\n\nroot = \"/r\"\n");
        assertThat(e.line()).isEqualTo(4);
        assertThat(e.column()).isEqualTo(1);
        assertThat(e.key()).isEqualTo("x.y");

        e = loadFails("version = 2\n[grpc]\n[debug]\n[grpc]\n");
        assertThat(e.line()).isEqualTo(4);
        assertThat(e.key()).isEqualTo("grpc");

        e = loadFails("version = 2\nroot = \"unterminated\n");
        assertThat(e.line()).isEqualTo(2);
        assertThat(e.getMessage()).contains("config.toml:2:");
    }

    @Test
    void wrongTypeNamesFileLineAndKey() throws IOException {
        Path f = dir.resolve("config.toml");
        ConfigException e = loadFails("version = 2\n\n[grpc]\n  uid = \"x\"\n");
        assertThat(e.getMessage()).isEqualTo(f + ":4: grpc.uid: expected integer, got string \"x\"");

        e = loadFails("version = 2\nroot = 5\n");
        assertThat(e.getMessage()).isEqualTo(f + ":2: root: expected string, got integer 5");

        e = loadFails("version = 2\n[metrics]\ngrpc_histogram = \"yes\"\n");
        assertThat(e.getMessage()).isEqualTo(f + ":3: metrics.grpc_histogram: expected boolean, got string \"yes\"");

        e = loadFails("version = 2\ngrpc = 1\n");
        assertThat(e.getMessage()).isEqualTo(f + ":2: grpc: expected table, got integer 1");

        e = loadFails("version = 2\ndisabled_plugins = \"io.containerd.grpc.v1.cri\"\n");
        assertThat(e.getMessage()).contains(":2: disabled_plugins: expected array");

        e = loadFails("version = 2\nrequired_plugins = [\n  \"io.containerd.a.v1.b\",\n  5,\n]\n");
        assertThat(e.key()).isEqualTo("required_plugins[1]");
        assertThat(e.line()).isEqualTo(2);

        e = loadFails("version = 2\n[timeouts]\n\"io.containerd.timeout.shim.load\" = 5\n");
        assertThat(e.getMessage()).isEqualTo(f + ":3: timeouts.\"io.containerd.timeout.shim.load\": expected string, got integer 5");

        e = loadFails("version = 2\n[timeouts]\n\"io.containerd.timeout.shim.load\" = \"5 seconds\"\n");
        assertThat(e.line()).isEqualTo(3);
        assertThat(e.detail()).contains("\"5 seconds\"");

        e = loadFails("version = 2\n[grpc]\nuid = 4294967296\n");
        assertThat(e.getMessage()).isEqualTo(f + ":3: grpc.uid: integer 4294967296 is out of range (32-bit)");

        e = loadFails("version = 2\n[grpc]\nuid = 99999999999999999999\n");
        assertThat(e.line()).isEqualTo(3);
        assertThat(e.key()).isEqualTo("grpc.uid");

        e = loadFails("version = 2\n[plugins]\n\"io.containerd.gc.v1.scheduler\" = 3\n");
        assertThat(e.getMessage()).isEqualTo(f + ":3: plugins.\"io.containerd.gc.v1.scheduler\": expected table, got integer 3");
    }

    @Test
    void wrongTypeInsideInlineTableFallsBackToEnclosingKeyLine() throws IOException {
        ConfigException e = loadFails("version = 2\n\ngrpc = { address = \"/x\", uid = \"root\" }\n");
        assertThat(e.line()).isEqualTo(3);
        assertThat(e.key()).isEqualTo("grpc.uid");
    }

    @Test
    void dottedKeysAreLocated() throws IOException {
        ConfigException e = loadFails("version = 2\nroot = \"/r\"\ndebug.level = 3\n");
        assertThat(e.line()).isEqualTo(3);
        assertThat(e.key()).isEqualTo("debug.level");
    }

    @Test
    void unknownKeysWarnWithFullPathAndLine() throws IOException {
        Path f = write("""
                version = 2
                bogus = 1
                [grpc]
                  uid = 5
                  colour = "red"
                [debug.extra]
                  x = 1
                """);
        ConfigLoader.Loaded l = ConfigLoader.load(f);
        assertThat(l.config().grpc().uid()).isEqualTo(5);
        // in file order, though found table by table
        assertThat(l.warnings()).containsExactly(
                f + ":2: bogus: unknown key, ignored",
                f + ":5: grpc.colour: unknown key, ignored",
                f + ":6: debug.extra: unknown key, ignored");
    }

    @Test
    void containerdOnlyKeysAreAcceptedAndWarnedWhenSet() throws IOException {
        Path f = write("""
                version = 2
                plugin_dir = ""
                oom_score = -999
                imports = ["/etc/containerd/conf.d/*.toml"]
                [cgroup]
                  path = ""
                [grpc]
                  tcp_tls_cert = ""
                  tcp_tls_key = "/k.pem"
                [proxy_plugins.foo]
                  type = "snapshot"
                  address = "/run/foo.sock"
                """);
        ConfigLoader.Loaded l = ConfigLoader.load(f);
        assertThat(l.config()).isEqualTo(Config.defaults());
        assertThat(l.warnings()).containsExactly(
                f + ":3: oom_score: not supported by jcontainerd, ignored",
                f + ":4: imports: not supported by jcontainerd, ignored",
                f + ":9: grpc.tcp_tls_key: not supported by jcontainerd, ignored",
                f + ":10: proxy_plugins: not supported by jcontainerd, ignored");
    }

    @Test
    void versionAbove2IsRefused() throws IOException {
        ConfigException e = loadFails("version = 3\n");
        assertThat(e.getMessage()).isEqualTo(dir.resolve("config.toml") + ":1: version: unsupported config version 3 (jcontainerd reads versions 1 and 2)");
        assertThat(loadFails("version = \"2\"\n").detail()).isEqualTo("expected integer, got string \"2\"");
        assertThat(loadFails("version = -1\n").detail()).startsWith("unsupported config version -1");
    }

    @Test
    void version1MapsShortPluginIdsToUris() throws IOException {
        Path f = write("""
                version = 1
                disabled_plugins = ["cri", "io.containerd.snapshotter.v1.btrfs"]
                [plugins.scheduler]
                  pause_threshold = 0.05
                [plugins.cri]
                  x = 1
                [plugins.foo]
                  y = 2
                [plugins."io.containerd.internal.v1.opt"]
                  path = "/opt"
                """);
        ConfigLoader.Loaded l = ConfigLoader.load(f);
        Config c = l.config();
        assertThat(c.version()).isEqualTo(2);
        assertThat(c.plugins()).containsOnlyKeys("io.containerd.gc.v1.scheduler", "io.containerd.grpc.v1.cri",
                "io.containerd.grpc.v1.foo", "io.containerd.internal.v1.opt");
        assertThat(c.disabledPlugins()).containsExactly("io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs");
        assertThat(l.warnings()).first().asString().isEqualTo(f + ":1: version: config version 1 is deprecated, please switch to version 2");
        assertThat(l.warnings()).anySatisfy(w -> assertThat(w).isEqualTo(
                f + ":3: plugins.scheduler: version 1 plugin id \"scheduler\" read as \"io.containerd.gc.v1.scheduler\"; set version = 2 and use plugin URIs"));
        assertThat(l.warnings()).hasSize(5);
    }

    @Test
    void absentVersionIsVersion1WithoutNoiseForFullUris() throws IOException {
        ConfigLoader.Loaded l = ConfigLoader.load(write("""
                root = "/r"
                [plugins."io.containerd.gc.v1.scheduler"]
                  pause_threshold = 0.05
                """));
        assertThat(l.warnings()).isEmpty();
        assertThat(l.config().version()).isEqualTo(2);
        assertThat(l.config().plugins()).containsOnlyKeys("io.containerd.gc.v1.scheduler");

        l = ConfigLoader.load(write("[plugins.bolt]\n  content_sharing_policy = \"isolated\"\n"));
        assertThat(l.config().plugins()).containsOnlyKeys("io.containerd.metadata.v1.bolt");
        assertThat(l.warnings()).singleElement().asString().contains(":1: plugins.bolt: version 1 plugin id");
    }

    @Test
    void version2RequiresPluginUris() throws IOException {
        ConfigException e = loadFails("version = 2\n[plugins.cri]\n  x = 1\n");
        assertThat(e.getMessage()).isEqualTo(dir.resolve("config.toml") + ":2: plugins.cri: invalid plugin key URI \"cri\" expect io.containerd.x.vx");
        e = loadFails("version = 2\ndisabled_plugins = [\"cri\"]\n");
        assertThat(e.getMessage()).endsWith(":2: disabled_plugins[0]: invalid disabled plugin URI \"cri\" expect io.containerd.x.vx");
    }

    @Test
    void parseNamesTheSourceGiven() {
        assertThatThrownBy(() -> ConfigLoader.parse("root = 1\n", "<stdin>"))
                .isInstanceOf(ConfigException.class).hasMessage("<stdin>:1: root: expected string, got integer 1");
    }

    @Test
    void unreadableFileIsAnError() throws IOException {
        Path sub = Files.createDirectory(dir.resolve("a-directory"));
        assertThatThrownBy(() -> ConfigLoader.load(sub)).isInstanceOf(ConfigException.class)
                .hasMessage(sub + ": cannot read: Is a directory");
        Path bin = dir.resolve("bin.toml");
        Files.write(bin, new byte[] {'r', '=', '"', (byte) 0xff, '"'});
        assertThatThrownBy(() -> ConfigLoader.load(bin)).hasMessage(bin + ": not valid UTF-8");
    }

    @Test
    void pluginTablesAreImmutable() throws IOException {
        Config c = ConfigLoader.load(write("version = 2\n[plugins.\"io.containerd.a.v1.b\"]\nlist = [1]\n")).config();
        Map<String, Object> t = c.plugins().get("io.containerd.a.v1.b");
        assertThatThrownBy(() -> t.put("x", 1)).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> ((List<Object>) t.get("list")).add(2)).isInstanceOf(UnsupportedOperationException.class);
    }
}
