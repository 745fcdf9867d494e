package io.jcontainerd.shim;

import java.util.List;

/**
 * {@code jcontainerd-shim-runc-v2}: containerd's runtime v2 runc shim. {@code start} launches (or finds)
 * the long-lived shim and prints its address, {@code delete} cleans up after a dead shim, and without an
 * action the process is the long-lived shim serving {@code containerd.task.v2.Task} over ttrpc.
 */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        Flags f;
        try {
            f = Flags.parse(List.of(args));
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.exit(2);
            return;
        }
        if (f.version()) {
            System.out.println(ShimStart.selfName() + ":");
            System.out.println("  Version:  " + Main.class.getPackage().getImplementationVersion());
            System.exit(0);
        }
        try {
            if (f.namespace().isEmpty()) throw new IllegalArgumentException("shim namespace cannot be empty");
            switch (f.action()) {
                case "start" -> ShimStart.run(f);
                case "delete" -> ShimDelete.run(f);
                case "train" -> Training.run(f);
                case "" -> ShimServer.run(f);
                default -> throw new IllegalArgumentException("unknown action " + f.action());
            }
        } catch (Throwable t) {
            System.err.println(ShimStart.selfName() + ": " + (t.getMessage() == null ? t : t.getMessage()));
            System.exit(1);
        }
        if (!f.action().isEmpty()) System.exit(0);
    }
}
