package io.jcontainerd.client.platforms;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PlatformsTest {
    @Test
    void parsesAndNormalizes() {
        assertThat(Platforms.parse("linux/amd64")).isEqualTo(new Platform("linux", "amd64"));
        assertThat(Platforms.parse("linux/x86_64")).isEqualTo(new Platform("linux", "amd64"));
        assertThat(Platforms.parse("linux/aarch64")).isEqualTo(new Platform("linux", "arm64"));
        assertThat(Platforms.parse("linux/arm64/v8")).isEqualTo(new Platform("linux", "arm64", "v8"));
        assertThat(Platforms.parse("linux/arm")).isEqualTo(new Platform("linux", "arm", ""));
        assertThat(Platforms.parse("linux/arm/7")).isEqualTo(new Platform("linux", "arm", "v7"));
        assertThat(Platforms.parse("linux/armhf").variant()).isEmpty();
        assertThat(Platforms.parse("linux/armel")).isEqualTo(new Platform("linux", "arm", "v6"));
        assertThat(Platforms.parse("linux/i386")).isEqualTo(new Platform("linux", "386"));
        assertThat(Platforms.parse("macos/arm64").os()).isEqualTo("darwin");
        assertThat(Platforms.parse("linux")).isEqualTo(Platforms.defaultPlatform());
        assertThat(Platforms.parse("amd64")).isEqualTo(new Platform("linux", "amd64"));
        assertThat(Platforms.defaultPlatform().toString()).isEqualTo("linux/amd64");
        assertThat(Platforms.format(new Platform("linux", "arm", "v7"))).isEqualTo("linux/arm/v7");
        assertThat(Platforms.normalize(new Platform("linux", "arm", ""))).isEqualTo(new Platform("linux", "arm", "v7"));
    }

    @Test
    void rejectsBadSpecifiers() {
        assertThatThrownBy(() -> Platforms.parse("linux/*")).hasMessageContaining("wildcards");
        assertThatThrownBy(() -> Platforms.parse("nosuchthing")).hasMessageContaining("unknown operating system or architecture");
        assertThatThrownBy(() -> Platforms.parse("linux/am d64")).hasMessageContaining("invalid component");
        assertThatThrownBy(() -> Platforms.parse("a/b/c/d")).hasMessageContaining("cannot parse");
    }

    @Test
    void matchersPreferTheExactPlatform() {
        var only = Platforms.only(new Platform("linux", "arm64"));
        assertThat(only.match(new Platform("linux", "arm64", "v8"))).isTrue();
        assertThat(only.match(new Platform("linux", "arm", "v7"))).isTrue();
        assertThat(only.match(new Platform("linux", "amd64"))).isFalse();
        List<Platform> ps = new ArrayList<>(List.of(new Platform("linux", "arm", "v6"), new Platform("linux", "arm", "v7"),
                new Platform("linux", "arm64")));
        ps.sort(only);
        assertThat(ps.getFirst()).isEqualTo(new Platform("linux", "arm64"));
        assertThat(ps.get(1)).isEqualTo(new Platform("linux", "arm", "v7"));

        var amd = Platforms.only(new Platform("linux", "amd64"));
        assertThat(amd.match(new Platform("linux", "386"))).isTrue();
        assertThat(amd.match(new Platform("linux", "x86_64"))).isTrue();
        assertThat(amd.match(new Platform("windows", "amd64"))).isFalse();
        assertThat(Platforms.onlyStrict(new Platform("linux", "amd64")).match(new Platform("linux", "386"))).isFalse();
        var armv7 = Platforms.only(new Platform("linux", "arm", "v7"));
        assertThat(armv7.match(new Platform("linux", "arm", "v5"))).isTrue();
        assertThat(armv7.match(new Platform("linux", "arm", "v8"))).isFalse();
        assertThat(Platforms.all().match(new Platform("plan9", "mips"))).isTrue();
    }
}
