package io.jcontainerd.ttrpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;

/**
 * A method a {@link TtrpcServer} serves: {@link Unary} or {@link Streaming}. Exceptions thrown by a
 * method become the call's status through {@code Errdefs.toStatus}.
 */
public sealed interface Method {

    /** One request payload in, one response payload out; a null result is an empty payload. */
    @FunctionalInterface
    non-sealed interface Unary extends Method {
        ByteString call(RequestContext ctx, ByteString payload) throws Exception;
    }

    /** A unary method on decoded protobuf messages. */
    @FunctionalInterface
    interface Typed<Q extends Message> {
        Message call(RequestContext ctx, Q request) throws Exception;
    }

    /**
     * A streaming method. The returned payload (may be null) ends the call: as the response when only
     * the client streams, as the closing stream message when the server streams.
     */
    @FunctionalInterface
    interface StreamHandler {
        ByteString handle(RequestContext ctx, ServerStream stream) throws Exception;
    }

    record Streaming(StreamKind kind, StreamHandler handler) implements Method {}

    static Method unary(Unary method) {
        return method;
    }

    static <Q extends Message> Method unary(Parser<Q> requestParser, Typed<Q> method) {
        return (Unary) (ctx, payload) -> {
            Q request;
            try {
                request = requestParser.parseFrom(payload);
            } catch (InvalidProtocolBufferException e) {
                throw Statuses.decodeError(e);
            }
            Message response = method.call(ctx, request);
            return response == null ? ByteString.EMPTY : response.toByteString();
        };
    }

    static Method stream(StreamKind kind, StreamHandler handler) {
        return new Streaming(kind, handler);
    }
}
