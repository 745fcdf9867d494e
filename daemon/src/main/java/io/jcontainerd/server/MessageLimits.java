package io.jcontainerd.server;

import com.google.protobuf.MessageLite;
import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;

/**
 * Enforces {@code grpc.max_send_message_size}: grpc-java servers only bound inbound messages, so an
 * oversized response is refused here (protobuf caches the size it computes, so this costs little).
 */
final class MessageLimits implements ServerInterceptor {
    private final int maxSend;

    MessageLimits(int maxSend) {
        this.maxSend = maxSend;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        return next.startCall(new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
            @Override
            public void sendMessage(R message) {
                if (message instanceof MessageLite m && m.getSerializedSize() > maxSend) {
                    throw Status.RESOURCE_EXHAUSTED.withDescription("response of " + m.getSerializedSize()
                            + " bytes exceeds max_send_message_size " + maxSend).asRuntimeException();
                }
                super.sendMessage(message);
            }
        }, headers);
    }
}
