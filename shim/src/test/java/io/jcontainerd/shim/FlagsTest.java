package io.jcontainerd.shim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jcontainerd.shim.util.Json;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FlagsTest {
    @Test
    void parsesGoStyleFlagsUpToTheAction() {
        Flags f = Flags.parse(List.of("-namespace", "ns", "--address=/run/c.sock", "-publish-binary", "/bin/c", "-id", "x",
                "-debug", "start", "-ignored"));
        assertThat(f.namespace()).isEqualTo("ns");
        assertThat(f.address()).isEqualTo("/run/c.sock");
        assertThat(f.publishBinary()).isEqualTo("/bin/c");
        assertThat(f.id()).isEqualTo("x");
        assertThat(f.debug()).isTrue();
        assertThat(f.action()).isEqualTo("start");
        assertThat(Flags.parse(List.of("-namespace", "n", "-id", "y", "-bundle", "/b", "delete")).bundle()).isEqualTo("/b");
        assertThat(Flags.parse(List.of("-namespace", "n", "-debug=false")).debug()).isFalse();
        assertThat(Flags.parse(List.of("-namespace", "n")).action()).isEmpty();
        assertThatThrownBy(() -> Flags.parse(List.of("-nope", "1"))).hasMessageContaining("not defined: -nope");
        assertThatThrownBy(() -> Flags.parse(List.of("-id"))).hasMessageContaining("needs an argument");
    }

    @Test
    void socketNamesFitSunPath() {
        String s = ShimStart.socketPath("/run/containerd/containerd.sock", "default", "a".repeat(76)).toString();
        assertThat(s).startsWith(ShimStart.SOCKET_DIR + "/").hasSize(ShimStart.SOCKET_DIR.length() + 65);
        assertThat(s.length()).isLessThan(108);
        // same inputs, same shim (grouping relies on it); another group, another socket
        assertThat(ShimStart.socketPath("/a", "ns", "g")).isEqualTo(ShimStart.socketPath("/a/", "ns", "g"));
        assertThat(ShimStart.socketPath("/a", "ns", "g")).isNotEqualTo(ShimStart.socketPath("/a", "ns", "h"));
    }

    @Test
    void jsonRoundTrip() {
        String doc = "{\"a\":[1,2.5,\"x\\n\\u00e9\"],\"b\":{\"c\":true,\"d\":null},\"e\":-7,\"big\":18446744073709551615}";
        Map<String, Object> m = Json.parseObject(doc);
        assertThat(Json.path(m, "b", "c")).isEqualTo(true);
        assertThat(Json.asLong(m.get("e"))).isEqualTo(-7);
        assertThat(m.get("a")).isEqualTo(List.of(1L, 2.5, "x\né"));
        assertThat(Json.parse(Json.write(m))).isEqualTo(Json.parse(Json.write(Json.parse(doc))));
        assertThatThrownBy(() -> Json.parse("{\"a\":1,}")).isInstanceOf(IllegalArgumentException.class);
    }
}
