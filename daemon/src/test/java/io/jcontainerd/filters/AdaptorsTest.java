package io.jcontainerd.filters;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class AdaptorsTest {
    @Test
    void ofResolvesTopLevelFieldsAndLabels() {
        Adaptor a = Adaptors.of(Map.of("name", "n", "image", ""), Map.of("k", "v", "a.b", "c", "e", ""));
        assertThat(a.field(List.of("name"))).contains("n");
        assertThat(a.field(List.of("image"))).isEmpty();
        assertThat(a.field(List.of("name", "x"))).isEmpty();
        assertThat(a.field(List.of("labels", "k"))).contains("v");
        assertThat(a.field(List.of("labels", "a", "b"))).contains("c");
        assertThat(a.field(List.of("labels", "e"))).contains("");
        assertThat(a.field(List.of("labels", "missing"))).isEmpty();
        assertThat(a.field(List.of())).isEmpty();
    }

    @Test
    void objectNestsAdaptors() {
        Adaptor a = Adaptors.object(Map.of(
                "id", "c1",
                "terminal", false,
                "runtime", Adaptors.object(Map.of("name", "io.containerd.runc.v2")),
                "labels", Adaptors.map(Map.of("x", "y"))));
        assertThat(a.field(List.of("id"))).contains("c1");
        assertThat(a.field(List.of("id", "ignored"))).contains("c1");
        assertThat(a.field(List.of("terminal"))).contains("false");
        assertThat(a.field(List.of("runtime", "name"))).contains("io.containerd.runc.v2");
        assertThat(a.field(List.of("runtime"))).isEmpty();
        assertThat(a.field(List.of("labels", "x"))).contains("y");
        assertThat(a.field(List.of("nope"))).isEqualTo(Optional.empty());
        assertThat(Filter.parse("runtime.name~=runc,labels.x==y").match(a)).isTrue();
    }
}
