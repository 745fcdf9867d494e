package io.jcontainerd.ttrpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;

/** The server's side of one streaming call, handed to a {@link Method.StreamHandler}. */
public interface ServerStream {
    /**
     * The next message from the client, or null once the client closed its side. For methods whose
     * client does not stream, the request's single message is the only one.
     *
     * @throws io.jcontainerd.errdefs.ContainerdException UNAVAILABLE if the connection went away
     */
    ByteString recv() throws InterruptedException;

    /** Sends one message to the client; only for methods whose server streams. */
    void send(ByteString message);

    default <T extends Message> T recv(Parser<T> parser) throws InterruptedException {
        ByteString b = recv();
        if (b == null) return null;
        try {
            return parser.parseFrom(b);
        } catch (InvalidProtocolBufferException e) {
            throw Statuses.decodeError(e);
        }
    }

    default void send(Message message) {
        send(message.toByteString());
    }
}
