package io.jcontainerd.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jcontainerd.config.ConfigLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TimeoutsTest {

    @Test
    void containerdDefaults() {
        assertThat(Timeouts.defaults()).isEqualTo(new Timeouts(Duration.ofSeconds(5), Duration.ofSeconds(5),
                Duration.ofSeconds(3), Duration.ofSeconds(2)));
    }

    @Test
    void aConfigFileOverridesKeyByKey(@TempDir Path dir) throws Exception {
        Path f = Files.writeString(dir.resolve("config.toml"), """
                version = 2
                [timeouts]
                  "io.containerd.timeout.task.state" = "250ms"
                  "io.containerd.timeout.shim.shutdown" = "1m30s"
                """);
        Timeouts t = Timeouts.from(ConfigLoader.load(f).config().timeouts());
        assertThat(t.taskState()).isEqualTo(Duration.ofMillis(250));
        assertThat(t.shimShutdown()).isEqualTo(Duration.ofSeconds(90));
        assertThat(t.shimLoad()).isEqualTo(Duration.ofSeconds(5));
        assertThat(t.shimCleanup()).isEqualTo(Duration.ofSeconds(5));
    }

    @Test
    void malformedDurationNamesItsKey() {
        assertThatThrownBy(() -> Timeouts.from(Map.of(Timeouts.SHIM_LOAD, "soon")))
                .hasMessageContaining("io.containerd.timeout.shim.load");
    }
}
