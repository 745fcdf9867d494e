package io.jcontainerd.ttrpc;

/** Which directions of a streaming method carry a sequence of messages (ttrpc's StreamDesc). */
public enum StreamKind {
    /** Many messages from the client, one response from the server. */
    CLIENT(true, false),
    /** One request from the client, many messages from the server. */
    SERVER(false, true),
    /** Many messages both ways. */
    BIDI(true, true);

    private final boolean clientStreams;
    private final boolean serverStreams;

    StreamKind(boolean clientStreams, boolean serverStreams) {
        this.clientStreams = clientStreams;
        this.serverStreams = serverStreams;
    }

    public boolean clientStreams() {
        return clientStreams;
    }

    public boolean serverStreams() {
        return serverStreams;
    }
}
