package io.jcontainerd.cmd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class MainTest {

    @Test
    void parsesShortLongAndEqualsForms() throws Exception {
        Main m = Main.parse(new String[] {"-c", "/x.toml", "--address=/s.sock", "--root", "/r", "--state=/s", "-l", "debug"});
        assertThat(m.config).isEqualTo(Path.of("/x.toml"));
        assertThat(m.address).isEqualTo("/s.sock");
        assertThat(m.root).isEqualTo("/r");
        assertThat(m.state).isEqualTo("/s");
        assertThat(m.logLevel).isEqualTo("debug");
        assertThat(m.command).isEmpty();
        assertThat(Main.parse(new String[] {"--root", "/r", "config", "dump"}).command).containsExactly("config", "dump");
    }

    @Test
    void usageErrors() {
        assertThatThrownBy(() -> Main.parse(new String[] {"--bogus"})).isInstanceOf(Main.UsageException.class)
                .hasMessageContaining("--bogus");
        assertThatThrownBy(() -> Main.parse(new String[] {"--root"})).hasMessageContaining("needs an argument");
        assertThatThrownBy(() -> Main.parse(new String[] {"frobnicate"}).execute(System.out))
                .hasMessageContaining("unknown command: frobnicate");
    }

    @Test
    void helpAndVersion() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertThat(Main.parse(new String[] {"--help"}).execute(new PrintStream(out))).isZero();
        assertThat(out.toString()).contains("config default").contains("--log-level");
        out.reset();
        assertThat(Main.parse(new String[] {"-v"}).execute(new PrintStream(out))).isZero();
        assertThat(out.toString()).startsWith("jcontainerd ");
    }
}
