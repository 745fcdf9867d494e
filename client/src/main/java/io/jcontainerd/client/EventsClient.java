package io.jcontainerd.client;

import static io.jcontainerd.client.ClientException.call;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.grpc.Channel;
import io.grpc.Context;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.jcontainerd.api.services.events.v1.Envelope;
import io.jcontainerd.api.services.events.v1.EventsGrpc;
import io.jcontainerd.api.services.events.v1.PublishRequest;
import io.jcontainerd.api.services.events.v1.SubscribeRequest;
import java.time.Instant;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicBoolean;

/** containerd.services.events.v1.Events: publish, and subscribe as a blocking stream or a Flow publisher. */
public final class EventsClient {
    private final Channel channel;

    EventsClient(Channel channel) {
        this.channel = channel;
    }

    /** One event envelope; {@link #payload()} is the event message (e.g. containerd.events.ImageCreate). */
    public record Event(Instant timestamp, String namespace, String topic, Any payload) {
        /** The payload's message name, with any URL prefix removed. */
        public String typeName() {
            String url = payload.getTypeUrl();
            return url.substring(url.lastIndexOf('/') + 1);
        }

        /** The payload decoded as {@code type}; InvalidArgument when it is another message. */
        public <T extends Message> T unpack(Class<T> type) {
            T proto = com.google.protobuf.Internal.getDefaultInstance(type);
            if (!proto.getDescriptorForType().getFullName().equals(typeName())) {
                throw ClientException.invalidArgument("event %s is a %s, not a %s", topic, typeName(),
                        proto.getDescriptorForType().getFullName());
            }
            try {
                @SuppressWarnings("unchecked")
                T t = (T) proto.getParserForType().parseFrom(payload.getValue());
                return t;
            } catch (InvalidProtocolBufferException e) {
                throw ClientException.invalidArgument("event %s: %s", topic, e.getMessage());
            }
        }

        static Event of(Envelope e) {
            return new Event(Protos.instant(e.getTimestamp()), e.getNamespace(), e.getTopic(), e.getEvent());
        }
    }

    /** Publishes {@code event} on {@code topic} in this client's namespace. */
    public void publish(String topic, Any event) {
        call(() -> EventsGrpc.newBlockingStub(channel).publish(PublishRequest.newBuilder().setTopic(topic).setEvent(event).build()));
    }

    /** A blocking stream of events matching any of {@code filters} (none: all); close it to unsubscribe. */
    public EventStream subscribe(String... filters) {
        return new EventStream(channel, List.of(filters));
    }

    /** Events as a Flow publisher: each subscriber gets its own subscription, with demand passed to gRPC flow control. */
    public Flow.Publisher<Event> publisher(String... filters) {
        List<String> fs = List.of(filters);
        return subscriber -> {
            var observer = new ClientResponseObserver<SubscribeRequest, Envelope>() {
                ClientCallStreamObserver<SubscribeRequest> call;
                final AtomicBoolean done = new AtomicBoolean();

                @Override
                public void beforeStart(ClientCallStreamObserver<SubscribeRequest> r) {
                    call = r;
                    r.disableAutoRequestWithInitial(0);
                }

                @Override
                public void onNext(Envelope e) {
                    if (!done.get()) subscriber.onNext(Event.of(e));
                }

                @Override
                public void onError(Throwable t) {
                    if (done.compareAndSet(false, true)) subscriber.onError(ClientException.from(t));
                }

                @Override
                public void onCompleted() {
                    if (done.compareAndSet(false, true)) subscriber.onComplete();
                }
            };
            EventsGrpc.newStub(channel).subscribe(SubscribeRequest.newBuilder().addAllFilters(fs).build(), observer);
            subscriber.onSubscribe(new Flow.Subscription() {
                @Override
                public void request(long n) {
                    if (n <= 0) {
                        observer.call.cancel("bad demand", null);
                        if (observer.done.compareAndSet(false, true)) {
                            subscriber.onError(new IllegalArgumentException("non-positive demand " + n));
                        }
                        return;
                    }
                    observer.call.request((int) Math.min(n, Integer.MAX_VALUE));
                }

                @Override
                public void cancel() {
                    if (observer.done.compareAndSet(false, true)) observer.call.cancel("cancelled by subscriber", null);
                }
            });
        };
    }

    /** A subscription read with {@link #hasNext()}/{@link #next()} (blocking). */
    public static final class EventStream implements Iterator<Event>, AutoCloseable {
        private final Context.CancellableContext ctx = Context.current().withCancellation();
        private final Iterator<Envelope> it;

        EventStream(Channel channel, List<String> filters) {
            it = ContentClient.cancellable(ctx, () -> EventsGrpc.newBlockingStub(channel)
                    .subscribe(SubscribeRequest.newBuilder().addAllFilters(filters).build()));
        }

        @Override
        public boolean hasNext() {
            if (ctx.isCancelled()) return false;
            Context prev = ctx.attach();
            try {
                return it.hasNext();
            } catch (StatusRuntimeException e) {
                if (ctx.isCancelled()) return false;
                throw ClientException.from(e);
            } finally {
                ctx.detach(prev);
            }
        }

        @Override
        public Event next() {
            if (!hasNext()) throw new NoSuchElementException();
            return Event.of(it.next());
        }

        /** Unsubscribes; a thread blocked in hasNext returns false. */
        @Override
        public void close() {
            ctx.cancel(null);
        }
    }
}
