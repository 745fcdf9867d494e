/**
 * ttrpc: containerd's small RPC protocol between the daemon and its shims, spoken here over unix-domain
 * {@link java.nio.channels.SocketChannel}s ({@link io.jcontainerd.ttrpc.TtrpcServer},
 * {@link io.jcontainerd.ttrpc.TtrpcClient}).
 *
 * <h2>Framing</h2>
 * Everything on the connection is a frame: a fixed 10-byte header followed by a payload.
 * <pre>
 *  offset 0..3  payload length, unsigned 32-bit big-endian, header not included
 *  offset 4..7  stream id, unsigned 32-bit big-endian
 *  offset 8     type:  1 request, 2 response, 3 data
 *  offset 9     flags: 1 remote-closed, 2 remote-open, 4 no-data
 * </pre>
 * A payload may be at most 4 MiB (4,194,304 bytes). A sender refuses to emit a bigger frame; a receiver
 * that sees a bigger length skips that many bytes, so the connection stays usable, and fails only the
 * stream it belongs to with RESOURCE_EXHAUSTED (a server answers the stream with that status).
 *
 * <h2>Streams</h2>
 * The connecting side is the client and opens every stream; its stream ids are odd and strictly
 * increasing (1, 3, 5, ...). Even ids are reserved for server-opened streams, which the protocol does
 * not use yet; a server answers a request with an even or re-used id with INVALID_ARGUMENT.
 * Flags are written from the receiver's point of view: "remote closed" on a frame tells the peer
 * that the sender will send nothing more on that stream.
 * <ul>
 *   <li><b>Unary</b>: the client sends one request frame with no flags; the server answers with
 *       exactly one response frame.</li>
 *   <li><b>Client streaming</b>: a request frame flagged remote-open (its inner payload, when
 *       present, already counts as the first message), then data frames without flags, then a data
 *       frame flagged remote-closed (the Go client sets no-data on it and sends no payload). The
 *       server finishes with one response frame.</li>
 *   <li><b>Server streaming</b>: a request frame flagged remote-closed carrying the single input
 *       message; the server sends data frames without flags and ends with a data frame flagged
 *       remote-closed, which carries a last message or, flagged no-data too, nothing. If the method
 *       fails the server sends a response frame with the error status instead of that closing data
 *       frame.</li>
 *   <li><b>Bidirectional</b>: remote-open request, data in both directions, the client's
 *       remote-closed data frame, and the server's closing data frame (or an error response).</li>
 * </ul>
 * A response frame always ends the stream for the client, whatever came before it.
 *
 * <h2>Envelopes</h2>
 * Request and response payloads are the protobuf messages {@code ttrpc.Request} (service, method,
 * inner payload, timeout in nanoseconds where 0 means none, metadata as repeated key/value pairs) and
 * {@code ttrpc.Response} (a {@code google.rpc.Status} whose code numbers are gRPC's, plus the inner
 * payload). Data frames carry bare inner messages. A missing status in a response means OK. Metadata
 * keys may repeat; the containerd namespace travels under {@code containerd-namespace-ttrpc}.
 * Unknown services and methods are answered with UNIMPLEMENTED. There is no handshake, ping, reset or
 * flow control: closing the connection ends all of its streams.
 */
package io.jcontainerd.ttrpc;
