package io.jcontainerd.ttrpc;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;

/** What a method learns about the call besides its payload: names, metadata, deadline, cancellation. */
public final class RequestContext {
    /** The metadata key containerd puts the namespace under on ttrpc. */
    public static final String NAMESPACE_KEY = "containerd-namespace-ttrpc";

    private final String service;
    private final String method;
    private final Map<String, List<String>> metadata;
    private final Instant deadline;
    private final BooleanSupplier connectionClosed;

    RequestContext(String service, String method, Map<String, List<String>> metadata, Instant deadline,
                   BooleanSupplier connectionClosed) {
        this.service = service;
        this.method = method;
        this.metadata = metadata;
        this.deadline = deadline;
        this.connectionClosed = connectionClosed;
    }

    /** A context outside any connection, e.g. to call a handler directly. */
    public static RequestContext of(String service, String method, Map<String, List<String>> metadata, Instant deadline) {
        return new RequestContext(service, method, Map.copyOf(metadata), deadline, () -> false);
    }

    public String service() {
        return service;
    }

    public String method() {
        return method;
    }

    /** All metadata as received; a key may carry several values. */
    public Map<String, List<String>> metadata() {
        return metadata;
    }

    /** The first value of {@code key}; keys are looked up lower-cased, as ttrpc does. */
    public Optional<String> metadata(String key) {
        List<String> values = metadata.get(key.toLowerCase(Locale.ROOT));
        return values == null || values.isEmpty() ? Optional.empty() : Optional.of(values.getFirst());
    }

    /** The containerd namespace of the call, if the caller sent one. */
    public Optional<String> namespace() {
        return metadata(NAMESPACE_KEY);
    }

    /** When the caller stops waiting, from the request's timeout; empty if it gave none. */
    public Optional<Instant> deadline() {
        return Optional.ofNullable(deadline);
    }

    /** Time left until the deadline (negative once passed), or empty without a deadline. */
    public Optional<Duration> remaining() {
        return deadline().map(d -> Duration.between(Instant.now(), d));
    }

    /** True once nobody waits for the answer any more: the deadline passed or the connection closed. */
    public boolean isCancelled() {
        return connectionClosed.getAsBoolean() || (deadline != null && !Instant.now().isBefore(deadline));
    }
}
