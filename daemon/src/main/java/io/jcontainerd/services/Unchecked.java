package io.jcontainerd.services;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Lets gRPC handlers, which cannot throw checked exceptions, call stores that do I/O. The failure
 * travels as an UncheckedIOException and becomes an Unknown status with the I/O error's message
 * (see {@link io.jcontainerd.errdefs.Errdefs#toStatus}).
 */
public final class Unchecked {
    private Unchecked() {}

    @FunctionalInterface
    public interface IoCall<T> {
        T call() throws IOException;
    }

    @FunctionalInterface
    public interface IoRun {
        void run() throws IOException;
    }

    public static <T> T io(IoCall<T> c) {
        try {
            return c.call();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static void io(IoRun r) {
        io(() -> {
            r.run();
            return null;
        });
    }
}
