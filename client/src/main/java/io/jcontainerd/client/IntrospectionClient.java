package io.jcontainerd.client;

import static io.jcontainerd.client.ClientException.call;

import com.google.protobuf.Empty;
import io.grpc.Channel;
import io.jcontainerd.api.services.introspection.v1.IntrospectionGrpc;
import io.jcontainerd.api.services.introspection.v1.PluginsRequest;
import io.jcontainerd.client.platforms.Platform;
import java.util.List;
import java.util.Map;

/** containerd.services.introspection.v1.Introspection: plugins and server identity. */
public final class IntrospectionClient {
    private final IntrospectionGrpc.IntrospectionBlockingStub stub;

    IntrospectionClient(Channel channel) {
        this.stub = IntrospectionGrpc.newBlockingStub(channel);
    }

    /** One plugin; {@code initError} is null when it loaded. */
    public record PluginInfo(String type, String id, List<String> requires, List<Platform> platforms,
                             Map<String, String> exports, List<String> capabilities, String initError) {
        public boolean ok() {
            return initError == null;
        }
    }

    public record ServerInfo(String uuid, long pid, long pidns) {}

    public List<PluginInfo> plugins(String... filters) {
        return call(() -> stub.plugins(PluginsRequest.newBuilder().addAllFilters(List.of(filters)).build()))
                .getPluginsList().stream().map(p -> new PluginInfo(p.getType(), p.getId(), List.copyOf(p.getRequiresList()),
                        p.getPlatformsList().stream().map(x -> new Platform(x.getOs(), x.getArchitecture(), x.getVariant())).toList(),
                        Map.copyOf(p.getExportsMap()), List.copyOf(p.getCapabilitiesList()),
                        p.hasInitErr() ? p.getInitErr().getMessage() : null)).toList();
    }

    public ServerInfo server() {
        var r = call(() -> stub.server(Empty.getDefaultInstance()));
        return new ServerInfo(r.getUuid(), r.getPid(), r.getPidns());
    }
}
