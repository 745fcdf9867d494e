package io.jcontainerd.errdefs;

import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;

/** Factories for {@link ContainerdException}s and the single translation to and from gRPC status. */
public final class Errdefs {
    private Errdefs() {}

    public static ContainerdException notFound(String fmt, Object... args) {
        return new ContainerdException(ErrorKind.NOT_FOUND, fmt.formatted(args));
    }

    public static ContainerdException alreadyExists(String fmt, Object... args) {
        return new ContainerdException(ErrorKind.ALREADY_EXISTS, fmt.formatted(args));
    }

    public static ContainerdException invalidArgument(String fmt, Object... args) {
        return new ContainerdException(ErrorKind.INVALID_ARGUMENT, fmt.formatted(args));
    }

    public static ContainerdException failedPrecondition(String fmt, Object... args) {
        return new ContainerdException(ErrorKind.FAILED_PRECONDITION, fmt.formatted(args));
    }

    public static ContainerdException unavailable(String fmt, Object... args) {
        return new ContainerdException(ErrorKind.UNAVAILABLE, fmt.formatted(args));
    }

    public static ContainerdException notImplemented(String fmt, Object... args) {
        return new ContainerdException(ErrorKind.NOT_IMPLEMENTED, fmt.formatted(args));
    }

    public static ContainerdException conflict(String fmt, Object... args) {
        return new ContainerdException(ErrorKind.CONFLICT, fmt.formatted(args));
    }

    public static ContainerdException aborted(String fmt, Object... args) {
        return new ContainerdException(ErrorKind.ABORTED, fmt.formatted(args));
    }

    /** The gRPC status a failure is reported with. Unclassified exceptions are UNKNOWN. */
    public static Status toStatus(Throwable t) {
        return switch (t) {
            case ContainerdException e -> Status.fromCode(e.kind().code()).withDescription(e.getMessage());
            case StatusRuntimeException e -> e.getStatus();
            case StatusException e -> e.getStatus();
            case IllegalArgumentException e -> Status.INVALID_ARGUMENT.withDescription(e.getMessage());
            case UnsupportedOperationException e -> Status.UNIMPLEMENTED.withDescription(e.getMessage());
            case java.io.UncheckedIOException e -> Status.UNKNOWN.withDescription(e.getCause().getMessage());
            default -> Status.UNKNOWN.withDescription(String.valueOf(t.getMessage() != null ? t.getMessage() : t));
        };
    }

    public static StatusRuntimeException toGrpc(Throwable t) {
        return toStatus(t).asRuntimeException();
    }

    /** Reads a status received from a peer back into our family. */
    public static ContainerdException fromStatus(Status s) {
        return new ContainerdException(ErrorKind.of(s.getCode()), s.getDescription() == null ? s.getCode().name() : s.getDescription(), s.getCause());
    }

    public static ErrorKind kindOf(Throwable t) {
        return switch (t) {
            case ContainerdException e -> e.kind();
            case StatusRuntimeException e -> ErrorKind.of(e.getStatus().getCode());
            default -> ErrorKind.UNKNOWN;
        };
    }
}
