package io.jcontainerd.gc;

import java.sql.SQLException;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** The mark phase: every node reachable from the roots, depth first, each reference looked up once. */
public final class Tricolor {
    private Tricolor() {}

    /** A node as reached: flat references are a separate visit, since they follow fewer edges. */
    public record Ref(Node node, boolean flat) {}

    @FunctionalInterface
    public interface Graph {
        void references(Node node, boolean flat, RefSink out) throws SQLException;
    }

    /** The nodes reachable from {@code roots} (flatness dropped: a node reached either way is live). */
    public static Set<Node> mark(List<Ref> roots, Graph graph) throws SQLException {
        ArrayDeque<Ref> gray = new ArrayDeque<>(roots);
        Set<Ref> seen = new HashSet<>();
        Set<Node> black = new HashSet<>();
        RefSink push = (n, flat) -> {
            Ref r = new Ref(n, flat);
            if (!seen.contains(r)) gray.push(r);
        };
        while (!gray.isEmpty()) {
            Ref r = gray.pop();
            if (!seen.add(r)) continue;
            graph.references(r.node(), r.flat(), push);
            black.add(r.node());
        }
        return black;
    }
}
