package io.jcontainerd.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigDecoderTest {

    enum Policy { SHARED, ISOLATED }

    record Options(@TomlKey("SystemdCgroup") boolean systemdCgroup, String binaryName) {}

    record Runtime(String runtimeType, Options options, List<String> podAnnotations) {}

    record Sub(String name, int level) {}

    record Plugin(String path, int count, long big, boolean enabled, double ratio, float small,
                  Duration delay, Policy policy, List<String> names, List<Long> numbers,
                  Map<String, String> labels, Map<String, Object> raw, Sub sub,
                  Map<String, Runtime> runtimes, Object anything) {}

    static Plugin defaults() {
        return new Plugin("/var/lib/x", 1, 2L, false, 0.5, 1.5f, Duration.ofSeconds(5), Policy.SHARED,
                List.of("a"), List.of(), Map.of("k", "v"), Map.of("r", 1L), new Sub("s", 1),
                Map.of("runc", new Runtime("io.containerd.runc.v2", new Options(false, "runc"), List.of())), null);
    }

    private static Map<String, Object> toml(String text) {
        return TomlReader.parse(text);
    }

    @Test
    void emptyTableGivesDefaults() {
        assertThat(ConfigDecoder.decode(Map.of(), defaults())).isEqualTo(defaults());
    }

    @Test
    void overlaysEveryKind() {
        List<String> warnings = new ArrayList<>();
        Plugin p = ConfigDecoder.decode(toml("""
                path = "/p"
                count = 3
                big = 9000000000
                enabled = true
                ratio = 2
                small = 0.25
                delay = "1m30s"
                policy = "isolated"
                names = ["x", "y"]
                numbers = [1, 2]
                anything = [1, "two"]
                [labels]
                  extra = "e"
                [raw]
                  nested = { a = [1, 2], b = "c" }
                [sub]
                  level = 9
                [runtimes.runc.options]
                  SystemdCgroup = true
                [runtimes.kata]
                  runtime_type = "io.containerd.kata.v2"
                  pod_annotations = ["io.katacontainers.*"]
                """), defaults(), warnings::add);
        assertThat(warnings).isEmpty();
        assertThat(p.path()).isEqualTo("/p");
        assertThat(p.count()).isEqualTo(3);
        assertThat(p.big()).isEqualTo(9_000_000_000L);
        assertThat(p.enabled()).isTrue();
        assertThat(p.ratio()).isEqualTo(2.0);
        assertThat(p.small()).isEqualTo(0.25f);
        assertThat(p.delay()).isEqualTo(Duration.ofSeconds(90));
        assertThat(p.policy()).isEqualTo(Policy.ISOLATED);
        assertThat(p.names()).containsExactly("x", "y");
        assertThat(p.numbers()).containsExactly(1L, 2L);
        assertThat(p.anything()).isEqualTo(List.of(1L, "two"));
        assertThat(p.labels()).isEqualTo(Map.of("k", "v", "extra", "e"));
        assertThat(p.raw()).isEqualTo(Map.of("r", 1L, "nested", Map.of("a", List.of(1L, 2L), "b", "c")));
        assertThat(p.sub()).isEqualTo(new Sub("s", 9));
        // an existing entry is overlaid on its default, a new one on zero values
        assertThat(p.runtimes().get("runc")).isEqualTo(new Runtime("io.containerd.runc.v2", new Options(true, "runc"), List.of()));
        assertThat(p.runtimes().get("kata")).isEqualTo(new Runtime("io.containerd.kata.v2", new Options(false, ""), List.of("io.katacontainers.*")));
    }

    @Test
    void acceptsCamelAndPascalSpellings() {
        Runtime r = ConfigDecoder.decode(toml("runtimeType = \"a\"\n[options]\nsystemd_cgroup = true\nBinaryName = \"crun\"\n"),
                ConfigDecoder.zero(Runtime.class), w -> { throw new AssertionError(w); });
        assertThat(r).isEqualTo(new Runtime("a", new Options(true, "crun"), List.of()));
    }

    @Test
    void unknownKeysAreWarningsWithTheirPath() {
        List<String> warnings = new ArrayList<>();
        Plugin p = ConfigDecoder.decode(toml("nope = 1\n[sub]\nlevel = 2\nwhat = 3\n[runtimes.runc.options]\nfoo = 1\n"),
                defaults(), warnings::add);
        assertThat(p.sub().level()).isEqualTo(2);
        assertThat(warnings).containsExactly("nope: unknown key, ignored", "sub.what: unknown key, ignored",
                "runtimes.runc.options.foo: unknown key, ignored");
    }

    @Test
    void wrongTypesNameThePluginKeyPath() {
        Config c = ConfigLoader.parse("""
                version = 2
                [plugins."io.containerd.x.v1.y"]
                  count = "many"
                """, "t").config();
        assertThatThrownBy(() -> ConfigDecoder.decodePlugin(c, "io.containerd.x.v1.y", defaults(), w -> {}))
                .isInstanceOf(ConfigException.class)
                .hasMessage("plugins.\"io.containerd.x.v1.y\".count: expected integer, got string \"many\"");

        assertThatThrownBy(() -> ConfigDecoder.decode(toml("delay = 5\n"), defaults()))
                .hasMessage("delay: expected duration string (like \"5s\" or \"1m30s\"), got integer 5");
        assertThatThrownBy(() -> ConfigDecoder.decode(toml("delay = \"5 min\"\n"), defaults()))
                .hasMessageStartingWith("delay: ");
        assertThatThrownBy(() -> ConfigDecoder.decode(toml("names = [\"a\", 2]\n"), defaults()))
                .hasMessage("names[1]: expected string, got integer 2");
        assertThatThrownBy(() -> ConfigDecoder.decode(toml("labels = { a = 1 }\n"), defaults()))
                .hasMessage("labels.a: expected string, got integer 1");
        assertThatThrownBy(() -> ConfigDecoder.decode(toml("[runtimes.kata]\noptions = 1\n"), defaults()))
                .hasMessage("runtimes.kata.options: expected table, got integer 1");
        assertThatThrownBy(() -> ConfigDecoder.decode(toml("policy = \"other\"\n"), defaults()))
                .hasMessage("policy: invalid value \"other\", expected one of [shared, isolated]");
        assertThatThrownBy(() -> ConfigDecoder.decode(toml("enabled = 1\n"), defaults()))
                .hasMessage("enabled: expected boolean, got integer 1");
        assertThatThrownBy(() -> ConfigDecoder.decode(toml("ratio = \"1\"\n"), defaults()))
                .hasMessage("ratio: expected float, got string \"1\"");
    }

    @Test
    void absentPluginTableGivesDefaults() {
        Plugin d = defaults();
        assertThat(ConfigDecoder.decodePlugin(Config.defaults(), "io.containerd.x.v1.y", d, w -> {})).isSameAs(d);
    }

    record Checked(int port) {
        Checked {
            if (port < 0) throw new IllegalArgumentException("port must not be negative");
        }
    }

    @Test
    void recordValidationBecomesConfigException() {
        assertThatThrownBy(() -> ConfigDecoder.decode(toml("port = -1\n"), new Checked(1)))
                .isInstanceOf(ConfigException.class)
                .hasMessage("invalid configuration: port must not be negative");
    }

    @Test
    void snakeCase() {
        assertThat(ConfigDecoder.snakeCase("maxRecvMessageSize")).isEqualTo("max_recv_message_size");
        assertThat(ConfigDecoder.snakeCase("tcpTLSCert")).isEqualTo("tcp_tls_cert");
        assertThat(ConfigDecoder.snakeCase("sha256Sum")).isEqualTo("sha256_sum");
        assertThat(ConfigDecoder.snakeCase("uid")).isEqualTo("uid");
    }

    @Test
    void zeroValues() {
        assertThat(ConfigDecoder.zero(Runtime.class)).isEqualTo(new Runtime("", new Options(false, ""), List.of()));
    }

    @Test
    void nonRecordDefaultsAreAProgrammingError() {
        assertThatThrownBy(() -> ConfigDecoder.decode(Map.of(), "x")).isInstanceOf(IllegalArgumentException.class);
    }
}
