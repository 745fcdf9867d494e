package io.jcontainerd.cmd;

import com.google.protobuf.Any;
import com.google.protobuf.Empty;
import io.jcontainerd.api.services.events.ttrpc.v1.Envelope;
import io.jcontainerd.api.services.events.ttrpc.v1.ForwardRequest;
import io.jcontainerd.errdefs.Errdefs;
import io.jcontainerd.protobuf.Timestamps;
import io.jcontainerd.server.UnixSockets;
import io.jcontainerd.ttrpc.RequestContext;
import io.jcontainerd.ttrpc.TtrpcClient;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * {@code jcontainerd [--address A] publish --topic T --namespace NS}: containerd's {@code publish}, the
 * binary shims may run to send an event (a protobuf Any on stdin). The event goes over ttrpc
 * (Events/Forward) to {@code TTRPC_ADDRESS}, which the daemon sets for its shims, else to the daemon's
 * ttrpc socket next to {@code --address}; no gRPC client is loaded.
 */
final class Publish {
    private Publish() {}

    static int run(Main main, List<String> args) throws Exception {
        String namespace = "";
        String topic = "";
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            String name = a.contains("=") ? a.substring(0, a.indexOf('=')) : a;
            String value;
            if (a.contains("=")) {
                value = a.substring(a.indexOf('=') + 1);
            } else {
                if (i + 1 >= args.size()) throw new Main.UsageException("flag needs an argument: " + a);
                value = args.get(++i);
            }
            switch (name) {
                case "--topic", "-topic" -> topic = value;
                case "--namespace", "-namespace" -> namespace = value;
                default -> throw new Main.UsageException("flag provided but not defined: " + a);
            }
        }
        if (topic.isEmpty()) throw Errdefs.invalidArgument("topic required to publish event: invalid argument");
        Any event = Any.parseFrom(System.in.readAllBytes());
        String env = System.getenv("TTRPC_ADDRESS");
        String address = env != null && !env.isEmpty() ? env
                : main.address != null ? main.address + ".ttrpc" : main.loadConfig().config().ttrpcAddress();
        ForwardRequest req = ForwardRequest.newBuilder().setEnvelope(Envelope.newBuilder()
                .setTimestamp(Timestamps.of(Instant.now())).setNamespace(namespace).setTopic(topic).setEvent(event)).build();
        try (TtrpcClient client = TtrpcClient.connect(UnixSockets.path(address))) {
            client.call("containerd.services.events.ttrpc.v1.Events", "Forward", req, Empty.parser(),
                    Map.of(RequestContext.NAMESPACE_KEY, namespace), Duration.ofSeconds(10));
        }
        return 0;
    }
}
