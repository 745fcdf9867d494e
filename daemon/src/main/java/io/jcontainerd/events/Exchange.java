package io.jcontainerd.events;

import com.google.protobuf.Any;
import com.google.protobuf.Message;
import io.jcontainerd.errdefs.ContainerdException;
import io.jcontainerd.errdefs.Errdefs;
import io.jcontainerd.filters.Filter;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The daemon's event bus: containerd's exchange. Events published here, or forwarded from shims,
 * go to every subscriber whose filters match. Filters see {@code namespace}, {@code topic} and
 * {@code event.<field>} (see {@link EventAdaptor}). Publishing never blocks: each subscriber has
 * a bounded queue and one that falls behind is dropped with a warning.
 */
public final class Exchange implements Publisher {
    private static final System.Logger LOG = System.getLogger(Exchange.class.getName());

    public static final int DEFAULT_QUEUE_CAPACITY = 1024;

    private final Clock clock;
    private final Consumer<String> namespaceValidator;
    private final int queueCapacity;
    private final List<Subscription> subscribers = new CopyOnWriteArrayList<>();

    /**
     * @param namespaceValidator throws (a ContainerdException, normally INVALID_ARGUMENT) for a
     *     namespace that is not a valid identifier
     */
    public Exchange(Clock clock, Consumer<String> namespaceValidator) {
        this(clock, namespaceValidator, DEFAULT_QUEUE_CAPACITY);
    }

    public Exchange(Clock clock, Consumer<String> namespaceValidator, int queueCapacity) {
        if (queueCapacity < 1) throw new IllegalArgumentException("queue capacity must be positive");
        this.clock = Objects.requireNonNull(clock);
        this.namespaceValidator = Objects.requireNonNull(namespaceValidator);
        this.queueCapacity = queueCapacity;
    }

    /**
     * Stamps and sends {@code event}. It is packed as an Any whose type URL is its bare proto full
     * name; an {@link Any} is sent as it is (as the Events service's Publish receives them).
     *
     * @throws ContainerdException FAILED_PRECONDITION without a namespace, INVALID_ARGUMENT for a
     *     bad namespace or topic
     */
    @Override
    public void publish(String namespace, String topic, Message event) {
        Objects.requireNonNull(event, "event");
        if (namespace == null || namespace.isEmpty()) {
            throw Errdefs.failedPrecondition("failed publishing event: namespace is required");
        }
        validateNamespace(namespace, "failed publishing event: ");
        Topics.validate(topic);
        Any packed = event instanceof Any a
                ? a
                : Any.newBuilder().setTypeUrl(event.getDescriptorForType().getFullName()).setValue(event.toByteString()).build();
        broadcast(new Envelope(clock.instant(), namespace, topic, packed));
    }

    /**
     * Sends an envelope made elsewhere (a shim, another publisher) unchanged.
     *
     * @throws ContainerdException INVALID_ARGUMENT for a bad namespace or topic or a missing timestamp
     */
    public void forward(Envelope envelope) {
        validateNamespace(envelope.namespace() == null ? "" : envelope.namespace(), "event envelope has invalid namespace: ");
        Topics.validate(envelope.topic());
        if (isZero(envelope.timestamp())) {
            throw Errdefs.invalidArgument("timestamp must be set on forwarded event");
        }
        broadcast(envelope);
    }

    /**
     * Subscribes to envelopes matching any of {@code filters} (all envelopes if there are none).
     * Close the subscription to end it.
     *
     * @throws ContainerdException INVALID_ARGUMENT if a filter does not parse
     */
    public Subscription subscribe(List<String> filters) {
        Filter filter;
        try {
            filter = Filter.parseAll(filters);
        } catch (ContainerdException e) {
            throw new ContainerdException(e.kind(), "failed parsing subscription filters: " + e.getMessage(), e);
        }
        Subscription s = new Subscription(filter, queueCapacity, subscribers::remove);
        subscribers.add(s);
        return s;
    }

    /** How many subscriptions are live. */
    public int subscriberCount() {
        return subscribers.size();
    }

    private void broadcast(Envelope envelope) {
        if (subscribers.isEmpty()) return;
        EventAdaptor adaptor = new EventAdaptor(envelope); // shared, so the event is decoded once
        for (Subscription s : subscribers) {
            boolean matches;
            try {
                matches = s.filter().match(adaptor);
            } catch (RuntimeException | StackOverflowError e) { // e.g. a pathological regular expression
                LOG.log(System.Logger.Level.WARNING, "event filter failed; event not delivered to that subscriber", e);
                continue;
            }
            if (matches && !s.offer(envelope)) {
                subscribers.remove(s);
                s.markDropped();
                LOG.log(System.Logger.Level.WARNING,
                        "dropping event subscriber that fell behind: {0} events queued; last topic {1} in namespace {2}",
                        queueCapacity, envelope.topic(), envelope.namespace());
            }
        }
    }

    private void validateNamespace(String namespace, String context) {
        try {
            namespaceValidator.accept(namespace);
        } catch (ContainerdException e) {
            throw new ContainerdException(e.kind(), context + e.getMessage(), e);
        }
    }

    // Go's zero time.Time, which is what an unset envelope timestamp reads as in containerd.
    private static final Instant GO_ZERO_TIME = Instant.parse("0001-01-01T00:00:00Z");

    private static boolean isZero(Instant t) {
        return t == null || t.equals(GO_ZERO_TIME);
    }
}
