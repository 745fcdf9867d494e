package io.jcontainerd.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class GoDurationTest {

    @Test
    void parsesGoSyntax() {
        assertThat(GoDuration.parse("5s")).isEqualTo(Duration.ofSeconds(5));
        assertThat(GoDuration.parse("100ms")).isEqualTo(Duration.ofMillis(100));
        assertThat(GoDuration.parse("1m30s")).isEqualTo(Duration.ofSeconds(90));
        assertThat(GoDuration.parse("1.5h")).isEqualTo(Duration.ofMinutes(90));
        assertThat(GoDuration.parse("0")).isEqualTo(Duration.ZERO);
        assertThat(GoDuration.parse("0s")).isEqualTo(Duration.ZERO);
        assertThat(GoDuration.parse("-2m")).isEqualTo(Duration.ofMinutes(-2));
        assertThat(GoDuration.parse("+3ns")).isEqualTo(Duration.ofNanos(3));
        assertThat(GoDuration.parse("10us")).isEqualTo(Duration.ofNanos(10_000));
        assertThat(GoDuration.parse("10µs")).isEqualTo(Duration.ofNanos(10_000));
        assertThat(GoDuration.parse("10μs")).isEqualTo(Duration.ofNanos(10_000));
        assertThat(GoDuration.parse(".5s")).isEqualTo(Duration.ofMillis(500));
        assertThat(GoDuration.parse("1.s")).isEqualTo(Duration.ofSeconds(1));
        assertThat(GoDuration.parse("1h2m3s4ms")).isEqualTo(Duration.ofHours(1).plusMinutes(2).plusSeconds(3).plusMillis(4));
    }

    @Test
    void rejectsWhatGoRejects() {
        for (String bad : new String[] {"", "5", "s", ".s", "5x", "1m-2s", "-", "9223372036854775808ns", "3000000h"}) {
            assertThatThrownBy(() -> GoDuration.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
        assertThatThrownBy(() -> GoDuration.parse("5x")).hasMessageContaining("unknown unit \"x\"");
        assertThatThrownBy(() -> GoDuration.parse("5")).hasMessageContaining("missing unit");
    }

    @Test
    void wholeNumbersReachTheEdgesOfTheRange() {
        assertThat(GoDuration.parse("9223372036854775807ns")).isEqualTo(Duration.ofNanos(Long.MAX_VALUE));
        assertThat(GoDuration.parse("-9223372036854775807ns")).isEqualTo(Duration.ofNanos(-Long.MAX_VALUE));
        assertThat(GoDuration.parse("2562047h")).isEqualTo(Duration.ofHours(2562047));
        assertThat(GoDuration.parse("0009s")).isEqualTo(Duration.ofSeconds(9));
        for (String bad : new String[] {"2562048h", "99999999999999999999ns", "9223372036854775807ns1ns"}) {
            assertThatThrownBy(() -> GoDuration.parse(bad)).as(bad).hasMessage("invalid duration \"" + bad + "\"");
        }
    }

    /** Run in a fresh JVM by the test below. */
    public static void main(String[] args) {
        System.out.println("parsed " + GoDuration.parse("5s").plus(GoDuration.parse("1m30s")).plus(GoDuration.parse("100ms")));
    }

    /** The runtime parses its timeouts at boot: whole numbers must not initialize BigDecimal (~15 ms). */
    @Test
    void wholeNumbersDoNotInitializeBigDecimal() throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        Process p = new ProcessBuilder(java, "-Xshare:off", "-Xlog:class+init=info", "-cp", System.getProperty("java.class.path"),
                GoDurationTest.class.getName()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(out).isZero();
        assertThat(out).contains("parsed PT1M35.1S").doesNotContain("Initializing 'java/math/BigDecimal'");
    }

    @Test
    void formatsLikeGo() {
        assertThat(GoDuration.format(Duration.ZERO)).isEqualTo("0s");
        assertThat(GoDuration.format(Duration.ofNanos(7))).isEqualTo("7ns");
        assertThat(GoDuration.format(Duration.ofNanos(1500))).isEqualTo("1.5µs");
        assertThat(GoDuration.format(Duration.ofMillis(100))).isEqualTo("100ms");
        assertThat(GoDuration.format(Duration.ofSeconds(5))).isEqualTo("5s");
        assertThat(GoDuration.format(Duration.ofSeconds(90))).isEqualTo("1m30s");
        assertThat(GoDuration.format(Duration.ofHours(2))).isEqualTo("2h0m0s");
        assertThat(GoDuration.format(Duration.ofMillis(61_500))).isEqualTo("1m1.5s");
        assertThat(GoDuration.format(Duration.ofMinutes(-1))).isEqualTo("-1m0s");
        assertThat(GoDuration.format(Duration.ofNanos(Long.MIN_VALUE))).isEqualTo("-2562047h47m16.854775808s");
    }

    @Test
    void formatParsesBack() {
        for (long n : new long[] {1, 999, 1000, 123456789, 5_000_000_000L, 3_723_000_000_001L, Long.MAX_VALUE}) {
            Duration d = Duration.ofNanos(n);
            assertThat(GoDuration.parse(GoDuration.format(d))).isEqualTo(d);
        }
    }
}
