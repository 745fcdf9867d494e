package io.jcontainerd.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TomlWriterTest {
    @TempDir
    Path dir;

    record Gc(double pauseThreshold, int deletionThreshold, int mutationThreshold, Duration scheduleDelay,
              Duration startupDelay) {}

    record Runtime(String runtimeType, Map<String, Object> options) {}

    record Cri(String sandboxImage, List<String> tags, Map<String, Runtime> runtimes, Map<String, String> env,
               List<Map<String, Object>> mirrors, @TomlKey("SystemdCgroup") boolean systemdCgroup) {}

    private Config load(String text) throws Exception {
        Path f = dir.resolve("c.toml");
        Files.writeString(f, text);
        ConfigLoader.Loaded l = ConfigLoader.load(f);
        assertThat(l.warnings()).as(text).isEmpty();
        return l.config();
    }

    @Test
    void defaultsRoundTrip() throws Exception {
        String text = TomlWriter.write(Config.defaults());
        assertThat(load(text)).isEqualTo(Config.defaults());
        assertThat(text).startsWith("""
                version = 2
                root = "/var/lib/jcontainerd"
                state = "/run/jcontainerd"
                temp = ""
                disabled_plugins = []
                required_plugins = []

                [debug]
                  address = ""
                """);
        assertThat(text).contains("""
                [grpc]
                  address = "/run/jcontainerd/jcontainerd.sock"
                  tcp_address = ""
                  uid = 0
                  gid = 0
                  max_recv_message_size = 16777216
                  max_send_message_size = 16777216
                """);
        assertThat(text).contains("""
                [timeouts]
                  "io.containerd.timeout.metadata.open" = "0s"
                  "io.containerd.timeout.shim.cleanup" = "5s"
                """);
        // tables in containerd's (alphabetical) order
        assertThat(text.indexOf("[debug]")).isLessThan(text.indexOf("[grpc]"));
        assertThat(text.indexOf("[grpc]")).isLessThan(text.indexOf("[metrics]"));
        assertThat(text.indexOf("[metrics]")).isLessThan(text.indexOf("[plugins]"));
        assertThat(text.indexOf("[plugins]")).isLessThan(text.indexOf("[timeouts]"));
        assertThat(text.indexOf("[timeouts]")).isLessThan(text.indexOf("[ttrpc]"));
    }

    @Test
    void fullConfigWithAwkwardStringsRoundTrips() throws Exception {
        Map<String, Object> raw = new LinkedHashMap<>();
        raw.put("quote\"key", "tab\there \"quoted\" back\\slash\nnewline \u0001 é ✓");
        raw.put("float", 1.0e-5);
        raw.put("big", 1.5e300);
        raw.put("inf", Double.POSITIVE_INFINITY);
        raw.put("neg", -3L);
        raw.put("list", List.of(1L, "x", true, List.of(), Map.of("a", 1L)));
        raw.put("tables", List.of(Map.of("name", "one", "sub", Map.of("x", 1L)), Map.of("name", "two")));
        raw.put("empty", Map.of());
        raw.put("nested", Map.of("deeper", Map.of("deepest", "yes")));
        // loading overlays the file's timeouts on the default ones, so an equal config has them all
        Map<String, String> timeouts = new LinkedHashMap<>(Config.defaults().timeouts());
        timeouts.put("io.containerd.timeout.x", "1m30s");
        timeouts.put("io.containerd.timeout.shim.load", "7s");
        Config c = new Config(2, "/r oot", "/st'ate", "C:\\temp",
                new Config.GrpcConfig("/a.sock", "0.0.0.0:1", 1, 2, 3, 4),
                new Config.TtrpcConfig("/t", 5, 6),
                new Config.DebugConfig("/d", 7, 8, "trace", "json"),
                new Config.MetricsConfig(":1338", true),
                List.of("io.containerd.a.v1.b", "io.containerd.c.v1.d"), List.of("io.containerd.e.v1.f"),
                timeouts,
                Map.of("io.containerd.raw.v1.plugin", raw, "io.containerd.other.v1.p", Map.of()));
        String text = TomlWriter.write(c);
        assertThat(load(text)).isEqualTo(c);
    }

    @Test
    void pluginRecordsAreWrittenAndDecodeBack() throws Exception {
        Gc gc = new Gc(0.02, 0, 100, Duration.ZERO, Duration.ofMillis(100));
        Map<String, Object> opts = new LinkedHashMap<>();
        opts.put("BinaryName", "/usr/bin/runc");
        opts.put("Root", "");
        Cri cri = new Cri("registry.k8s.io/pause:3.9", List.of("a", "b"),
                Map.of("runc", new Runtime("io.containerd.runc.v2", opts)), Map.of("K", "V"),
                List.of(Map.of("host", "docker.io")), true);
        Map<String, Object> configs = new LinkedHashMap<>();
        configs.put("io.containerd.grpc.v1.cri", cri);
        configs.put("io.containerd.gc.v1.scheduler", gc);
        configs.put("io.containerd.none.v1.none", null);

        String text = TomlWriter.write(Config.defaults(), configs);
        assertThat(text).contains("""

                  [plugins."io.containerd.gc.v1.scheduler"]
                    pause_threshold = 0.02
                    deletion_threshold = 0
                    mutation_threshold = 100
                    schedule_delay = "0s"
                    startup_delay = "100ms"
                """);
        assertThat(text).contains("SystemdCgroup = true").contains("[plugins.\"io.containerd.grpc.v1.cri\".runtimes.runc.options]")
                .contains("[[plugins.\"io.containerd.grpc.v1.cri\".mirrors]]").doesNotContain("none.v1");
        assertThat(text.indexOf("io.containerd.gc.v1.scheduler")).isLessThan(text.indexOf("io.containerd.grpc.v1.cri"));

        Config back = load(text);
        assertThat(back.plugins()).containsOnlyKeys("io.containerd.gc.v1.scheduler", "io.containerd.grpc.v1.cri");
        assertThat(ConfigDecoder.decodePlugin(back, "io.containerd.gc.v1.scheduler", ConfigDecoder.zero(Gc.class), w -> {}))
                .isEqualTo(gc);
        assertThat(ConfigDecoder.decodePlugin(back, "io.containerd.grpc.v1.cri", ConfigDecoder.zero(Cri.class), w -> {}))
                .isEqualTo(cri);
        // raw tables are written with sorted keys, so rewriting what was loaded is a fixed point
        String raw = TomlWriter.write(back);
        assertThat(load(raw)).isEqualTo(back);
        assertThat(TomlWriter.write(load(raw))).isEqualTo(raw);
    }

    @Test
    void pluginRecordWinsOverRawTable() {
        Config c = new Config(2, "/r", "/s", "", Config.defaults().grpc(), Config.defaults().ttrpc(),
                Config.defaults().debug(), Config.defaults().metrics(), List.of(), List.of(), Map.of(),
                Map.of("io.containerd.gc.v1.scheduler", Map.of("pause_threshold", 0.5)));
        String text = TomlWriter.write(c, Map.of("io.containerd.gc.v1.scheduler",
                new Gc(0.1, 1, 2, Duration.ofSeconds(1), Duration.ZERO)));
        assertThat(text).contains("pause_threshold = 0.1").doesNotContain("0.5");
    }
}
