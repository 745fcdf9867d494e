package io.jcontainerd.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
