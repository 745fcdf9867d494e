package io.jcontainerd.ttrpc;

import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.jcontainerd.errdefs.ContainerdException;
import io.jcontainerd.errdefs.Errdefs;

/** Conversions between exceptions and the google.rpc.Status that ttrpc responses carry. */
final class Statuses {
    private Statuses() {}

    static final com.google.rpc.Status OK = com.google.rpc.Status.getDefaultInstance();

    static com.google.rpc.Status of(Status.Code code, String message) {
        return com.google.rpc.Status.newBuilder().setCode(code.value()).setMessage(message).build();
    }

    static com.google.rpc.Status of(Throwable t) {
        Status s = Errdefs.toStatus(t);
        return com.google.rpc.Status.newBuilder()
                .setCode(s.getCode().value())
                .setMessage(s.getDescription() == null ? "" : s.getDescription())
                .build();
    }

    /** An undecodable payload is INTERNAL, as in containerd's ttrpc. */
    static StatusRuntimeException decodeError(InvalidProtocolBufferException e) {
        return Status.INTERNAL.withDescription("ttrpc: error unmarshalling payload: " + e.getMessage()).asRuntimeException();
    }

    static ContainerdException toException(com.google.rpc.Status s) {
        Status grpc = Status.fromCodeValue(s.getCode());
        return Errdefs.fromStatus(s.getMessage().isEmpty() ? grpc : grpc.withDescription(s.getMessage()));
    }
}
