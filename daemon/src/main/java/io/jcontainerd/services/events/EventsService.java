package io.jcontainerd.services.events;

import com.google.protobuf.Empty;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.jcontainerd.api.services.events.v1.EventsGrpc;
import io.jcontainerd.api.services.events.v1.ForwardRequest;
import io.jcontainerd.api.services.events.v1.PublishRequest;
import io.jcontainerd.api.services.events.v1.SubscribeRequest;
import io.jcontainerd.errdefs.Errdefs;
import io.jcontainerd.events.Envelope;
import io.jcontainerd.events.Exchange;
import io.jcontainerd.events.Subscription;
import io.jcontainerd.namespaces.Namespaces;
import io.jcontainerd.plugin.GrpcService;
import io.jcontainerd.plugin.PluginProvider;
import io.jcontainerd.plugin.PluginType;
import io.jcontainerd.plugin.Registration;
import io.jcontainerd.protobuf.Timestamps;
import io.jcontainerd.plugin.TtrpcService;
import io.jcontainerd.ttrpc.Method;
import java.util.Map;
import java.time.Clock;
import java.util.List;

/** containerd.services.events.v1.Events over the daemon's exchange. */
public final class EventsService extends EventsGrpc.EventsImplBase implements GrpcService, TtrpcService {

    private final Exchange exchange;
    private final Clock clock;

    EventsService(Exchange exchange, Clock clock) {
        this.exchange = exchange;
        this.clock = clock;
    }

    @Override
    public void publish(PublishRequest req, StreamObserver<Empty> out) {
        // Publish stamps the event here, in the caller's namespace; Forward keeps what it is given.
        exchange.forward(new Envelope(clock.instant(), Namespaces.required(), req.getTopic(), req.getEvent()));
        out.onNext(Empty.getDefaultInstance());
        out.onCompleted();
    }

    @Override
    public void forward(ForwardRequest req, StreamObserver<Empty> out) {
        var env = req.getEnvelope();
        exchange.forward(new Envelope(Timestamps.toInstant(env.getTimestamp()), env.getNamespace(), env.getTopic(), env.getEvent()));
        out.onNext(Empty.getDefaultInstance());
        out.onCompleted();
    }

    @Override
    public void subscribe(SubscribeRequest req, StreamObserver<io.jcontainerd.api.services.events.v1.Envelope> out) {
        Subscription sub = exchange.subscribe(req.getFiltersList());
        var call = (ServerCallStreamObserver<io.jcontainerd.api.services.events.v1.Envelope>) out;
        call.setOnCancelHandler(sub::close);
        Thread.ofVirtual().name("events-subscriber").start(() -> {
            try (sub) {
                Envelope env;
                while ((env = sub.next()) != null) {
                    call.onNext(toProto(env));
                }
                if (sub.dropped()) {
                    call.onError(Status.RESOURCE_EXHAUSTED
                            .withDescription("subscription dropped: the subscriber fell behind").asRuntimeException());
                } else if (!call.isCancelled()) {
                    call.onCompleted();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException e) {
                if (!call.isCancelled()) call.onError(Errdefs.toGrpc(e));
            }
        });
    }

    @Override
    public String ttrpcServiceName() {
        return "containerd.services.events.ttrpc.v1.Events";
    }

    /** Shims forward their task events here, over ttrpc. */
    @Override
    public Map<String, Method> ttrpcMethods() {
        return Map.of("Forward", Method.unary(io.jcontainerd.api.services.events.ttrpc.v1.ForwardRequest.parser(), (ctx, req) -> {
            var env = req.getEnvelope();
            exchange.forward(new Envelope(Timestamps.toInstant(env.getTimestamp()), env.getNamespace(), env.getTopic(), env.getEvent()));
            return Empty.getDefaultInstance();
        }));
    }

    private static io.jcontainerd.api.services.events.v1.Envelope toProto(Envelope env) {
        return io.jcontainerd.api.services.events.v1.Envelope.newBuilder()
                .setTimestamp(Timestamps.of(env.timestamp()))
                .setNamespace(env.namespace())
                .setTopic(env.topic())
                .setEvent(env.event())
                .build();
    }

    public static final class Provider implements PluginProvider {
        @Override
        public List<Registration> registrations() {
            return List.of(Registration.of(PluginType.GRPC, "events", List.of(PluginType.EVENT),
                    ic -> new EventsService(ic.plugins().single(PluginType.EVENT, Exchange.class), ic.clock())));
        }
    }
}
