package io.jcontainerd.gc;

/** Receives the nodes a root scan or a reference lookup finds. */
@FunctionalInterface
public interface RefSink {

    /**
     * Reports {@code node} as live. A flat reference (a lease labelled {@code containerd.io/gc.flat})
     * keeps the node itself but only its structural references (a snapshot's parent, again flat), not
     * those its labels declare.
     */
    void add(Node node, boolean flat);

    default void add(Node node) {
        add(node, false);
    }
}
