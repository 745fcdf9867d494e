package io.jcontainerd.gc;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TricolorTest {
    private static Node n(String k) {
        return Node.content("ns", k);
    }

    @Test
    void marksTheReachableClosureOnceEach() throws Exception {
        Map<String, List<String>> edges = Map.of("a", List.of("b", "c"), "b", List.of("a", "d"), "x", List.of("a"));
        List<Node> visited = new ArrayList<>();
        var live = Tricolor.mark(List.of(new Tricolor.Ref(n("a"), false)), (node, flat, out) -> {
            visited.add(node);
            for (String t : edges.getOrDefault(node.key(), List.of())) out.add(n(t));
        });
        assertThat(live).containsExactlyInAnyOrder(n("a"), n("b"), n("c"), n("d"));
        assertThat(visited).doesNotHaveDuplicates();
    }

    @Test
    void aNodeReachedFlatAndFullIsVisitedBothWays() throws Exception {
        List<String> visits = new ArrayList<>();
        var live = Tricolor.mark(List.of(new Tricolor.Ref(n("a"), true), new Tricolor.Ref(n("r"), false)), (node, flat, out) -> {
            visits.add(node.key() + (flat ? "/flat" : ""));
            if (node.key().equals("r")) out.add(n("a"));
            if (node.key().equals("a") && !flat) out.add(n("label-ref"));
        });
        assertThat(live).containsExactlyInAnyOrder(n("a"), n("r"), n("label-ref"));
        assertThat(visits).contains("a/flat", "a");
    }
}
