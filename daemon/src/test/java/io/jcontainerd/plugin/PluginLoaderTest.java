package io.jcontainerd.plugin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Message;
import io.jcontainerd.config.Config;
import io.jcontainerd.config.ConfigLoader;
import io.jcontainerd.events.Publisher;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PluginLoaderTest {
    static final Publisher NO_EVENTS = (String ns, String topic, Message event) -> { };

    record Closing(String name, List<String> log) implements AutoCloseable {
        @Override
        public void close() {
            log.add("close " + name);
        }
    }

    static Registration reg(String type, String id, List<String> requires, List<String> log) {
        return Registration.of(type, id, requires, ic -> {
            log.add("init " + ic.registration().uri());
            return new Closing(ic.registration().uri(), log);
        });
    }

    static Config config(String toml) {
        return ConfigLoader.parse(toml, "test.toml").config();
    }

    @Test
    void ordersByRequiredTypesAndPutsStarLast() {
        List<String> log = new ArrayList<>();
        List<Registration> regs = List.of(
                reg("t.grpc", "svc", List.of("t.meta"), log),
                reg("t.intro", "all", List.of(Registration.ALL), log),
                reg("t.meta", "db", List.of("t.content", "t.snap"), log),
                reg("t.snap", "overlay", List.of(), log),
                reg("t.content", "local", List.of(), log));
        assertThat(PluginLoader.order(regs)).extracting(Registration::uri)
                .containsExactly("t.content.local", "t.snap.overlay", "t.meta.db", "t.grpc.svc", "t.intro.all");
    }

    @Test
    void cycleIsAnError() {
        List<String> log = new ArrayList<>();
        assertThatThrownBy(() -> PluginLoader.order(List.of(reg("a", "1", List.of("b"), log), reg("b", "1", List.of("a"), log))))
                .hasMessageContaining("cycle");
    }

    @Test
    void skipAndErrorAreRecordedAndBootGoesOn() {
        List<String> log = new ArrayList<>();
        List<Registration> regs = List.of(
                Registration.of("t.snap", "btrfs", List.of(), ic -> {
                    throw new SkipPluginException("not on btrfs");
                }),
                Registration.of("t.meta", "broken", List.of(), ic -> {
                    throw new IllegalStateException("disk on fire");
                }),
                Registration.of("t.grpc", "needs-meta", List.of("t.meta"),
                        ic -> ic.plugins().get("t.meta", "broken", Object.class)),
                reg("t.grpc", "fine", List.of(), log));
        PluginSet set = PluginLoader.load(regs, Config.defaults(), NO_EVENTS, Clock.systemUTC(), p -> { });
        assertThat(set.all()).extracting(p -> p.id() + "=" + p.status())
                .containsExactly("btrfs=SKIP", "broken=ERROR", "needs-meta=ERROR", "fine=OK");
        assertThat(set.all().get(1).error()).hasMessage("disk on fire");
        assertThat(set.all().get(2).error()).hasMessageContaining("t.meta.broken is not available");
    }

    @Test
    void disabledByUriOrIdAreNotInitialized() {
        List<String> log = new ArrayList<>();
        List<Registration> regs = List.of(reg("io.containerd.grpc.v1", "a", List.of(), log),
                reg("io.containerd.grpc.v1", "b", List.of(), log), reg("io.containerd.grpc.v1", "c", List.of(), log));
        Config cfg = config("version = 2\ndisabled_plugins = [\"io.containerd.grpc.v1.a\"]\n");
        PluginSet set = PluginLoader.load(regs, cfg, NO_EVENTS, Clock.systemUTC(), p -> { });
        assertThat(set.all()).extracting(Plugin::id).containsExactly("b", "c");
        assertThat(log).containsExactly("init io.containerd.grpc.v1.b", "init io.containerd.grpc.v1.c");
    }

    @Test
    void requiredPluginNotOkAbortsAndClosesWhatWasStarted() {
        List<String> log = new ArrayList<>();
        List<Registration> regs = List.of(reg("io.containerd.grpc.v1", "ok", List.of(), log),
                Registration.of("io.containerd.grpc.v1", "needed", List.of(), ic -> {
                    throw new SkipPluginException("not here");
                }));
        Config cfg = config("version = 2\nrequired_plugins = [\"io.containerd.grpc.v1.needed\"]\n");
        assertThatThrownBy(() -> PluginLoader.load(regs, cfg, NO_EVENTS, Clock.systemUTC(), p -> { }))
                .hasMessageContaining("io.containerd.grpc.v1.needed (skip: not here)");
        assertThat(log).containsExactly("init io.containerd.grpc.v1.ok", "close io.containerd.grpc.v1.ok");
    }

    @Test
    void closeAllRunsInReverseInitOrder() {
        List<String> log = new ArrayList<>();
        PluginSet set = PluginLoader.load(List.of(reg("t.a", "1", List.of(), log), reg("t.b", "1", List.of("t.a"), log)),
                Config.defaults(), NO_EVENTS, Clock.systemUTC(), p -> { });
        PluginLoader.closeAll(set);
        assertThat(log).containsExactly("init t.a.1", "init t.b.1", "close t.b.1", "close t.a.1");
    }

    record Settings(String mode, int count) {}

    @Test
    void pluginConfigTableIsDecodedOntoDefaults() {
        Settings[] seen = new Settings[1];
        Registration r = new Registration("io.containerd.internal.v1", "thing", List.of(), new Settings("fast", 1), ic -> {
            seen[0] = ic.config(Settings.class);
            return "x";
        });
        Config cfg = config("version = 2\n[plugins.\"io.containerd.internal.v1.thing\"]\n  count = 7\n");
        PluginLoader.load(List.of(r), cfg, NO_EVENTS, Clock.systemUTC(), p -> { });
        assertThat(seen[0]).isEqualTo(new Settings("fast", 7));
    }
}
