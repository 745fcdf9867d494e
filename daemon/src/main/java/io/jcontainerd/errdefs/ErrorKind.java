package io.jcontainerd.errdefs;

import io.grpc.Status;

/**
 * The error classes every jcontainerd subsystem speaks, and their one mapping to gRPC codes.
 * containerd clients branch on the gRPC code alone, so the mapping is the contract.
 */
public enum ErrorKind {
    UNKNOWN(Status.Code.UNKNOWN),
    INVALID_ARGUMENT(Status.Code.INVALID_ARGUMENT),
    NOT_FOUND(Status.Code.NOT_FOUND),
    ALREADY_EXISTS(Status.Code.ALREADY_EXISTS),
    FAILED_PRECONDITION(Status.Code.FAILED_PRECONDITION),
    /** containerd's "conflict": an update raced with another writer. */
    CONFLICT(Status.Code.FAILED_PRECONDITION),
    UNAVAILABLE(Status.Code.UNAVAILABLE),
    NOT_IMPLEMENTED(Status.Code.UNIMPLEMENTED),
    ABORTED(Status.Code.ABORTED),
    CANCELED(Status.Code.CANCELLED),
    DEADLINE_EXCEEDED(Status.Code.DEADLINE_EXCEEDED),
    PERMISSION_DENIED(Status.Code.PERMISSION_DENIED),
    RESOURCE_EXHAUSTED(Status.Code.RESOURCE_EXHAUSTED);

    private final Status.Code code;

    ErrorKind(Status.Code code) {
        this.code = code;
    }

    public Status.Code code() {
        return code;
    }

    /** The kind a gRPC code stands for; FAILED_PRECONDITION reads back as itself, not CONFLICT. */
    public static ErrorKind of(Status.Code code) {
        for (ErrorKind k : values()) {
            if (k.code == code && k != CONFLICT) return k;
        }
        return UNKNOWN;
    }
}
