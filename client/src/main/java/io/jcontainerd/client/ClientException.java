package io.jcontainerd.client;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * A failure reported by the daemon or a registry, carrying the gRPC code it maps to (containerd's
 * errdefs classes: NotFound, AlreadyExists, FailedPrecondition, ...).
 */
public class ClientException extends RuntimeException {
    private final Status.Code code;

    public ClientException(Status.Code code, String message) {
        super(message);
        this.code = code;
    }

    public ClientException(Status.Code code, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
    }

    public Status.Code code() {
        return code;
    }

    public boolean isNotFound() {
        return code == Status.Code.NOT_FOUND;
    }

    public boolean isAlreadyExists() {
        return code == Status.Code.ALREADY_EXISTS;
    }

    public boolean isInvalidArgument() {
        return code == Status.Code.INVALID_ARGUMENT;
    }

    public boolean isFailedPrecondition() {
        return code == Status.Code.FAILED_PRECONDITION;
    }

    public boolean isUnavailable() {
        return code == Status.Code.UNAVAILABLE;
    }

    public static ClientException notFound(String fmt, Object... args) {
        return new ClientException(Status.Code.NOT_FOUND, fmt.formatted(args));
    }

    public static ClientException invalidArgument(String fmt, Object... args) {
        return new ClientException(Status.Code.INVALID_ARGUMENT, fmt.formatted(args));
    }

    public static ClientException failedPrecondition(String fmt, Object... args) {
        return new ClientException(Status.Code.FAILED_PRECONDITION, fmt.formatted(args));
    }

    public static ClientException alreadyExists(String fmt, Object... args) {
        return new ClientException(Status.Code.ALREADY_EXISTS, fmt.formatted(args));
    }

    public static ClientException unknown(String message, Throwable cause) {
        return new ClientException(Status.Code.UNKNOWN, message, cause);
    }

    /** The exception for a failed call: the server's description, its code. */
    public static ClientException from(Throwable t) {
        if (t instanceof ClientException c) return c;
        Status s = Status.fromThrowable(t);
        String msg = s.getDescription() != null ? s.getDescription() : s.getCode().name().toLowerCase().replace('_', ' ');
        return new ClientException(s.getCode(), msg, t);
    }

    /** Runs one RPC, turning a {@link StatusRuntimeException} into a {@link ClientException}. */
    public static <T> T call(java.util.function.Supplier<T> rpc) {
        try {
            return rpc.get();
        } catch (StatusRuntimeException e) {
            throw from(e);
        }
    }
}
