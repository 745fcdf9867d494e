package io.jcontainerd.services.introspection;

import com.google.protobuf.Empty;
import io.grpc.stub.StreamObserver;
import io.jcontainerd.api.services.introspection.v1.IntrospectionGrpc;
import io.jcontainerd.api.services.introspection.v1.PluginInfoRequest;
import io.jcontainerd.api.services.introspection.v1.PluginInfoResponse;
import io.jcontainerd.api.services.introspection.v1.PluginsRequest;
import io.jcontainerd.api.services.introspection.v1.PluginsResponse;
import io.jcontainerd.api.services.introspection.v1.ServerResponse;
import io.jcontainerd.errdefs.Errdefs;
import io.jcontainerd.filters.Filter;
import io.jcontainerd.plugin.GrpcService;
import io.jcontainerd.plugin.Plugin;
import io.jcontainerd.plugin.PluginProvider;
import io.jcontainerd.plugin.PluginSet;
import io.jcontainerd.plugin.PluginType;
import io.jcontainerd.plugin.Registration;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/** containerd.services.introspection.v1.Introspection: what plugins this daemon runs, and who it is. */
public final class IntrospectionService extends IntrospectionGrpc.IntrospectionImplBase implements GrpcService {

    private final PluginSet plugins;
    private final Path uuidFile;

    IntrospectionService(PluginSet plugins, Path root) {
        this.plugins = plugins;
        this.uuidFile = root.resolve("uuid");
    }

    @Override
    public void plugins(PluginsRequest request, StreamObserver<PluginsResponse> out) {
        Filter filter = Filter.parseAll(request.getFiltersList());
        PluginsResponse.Builder resp = PluginsResponse.newBuilder();
        for (Plugin p : plugins.all()) {
            if (filter.match(path -> field(p, path))) resp.addPlugins(PluginInfo.toProto(p));
        }
        out.onNext(resp.build());
        out.onCompleted();
    }

    private static Optional<String> field(Plugin p, List<String> path) {
        if (path.size() != 1) return Optional.empty();
        return switch (path.getFirst()) {
            case "type" -> Optional.of(p.type());
            case "id" -> Optional.of(p.id());
            case "status" -> Optional.of(p.status().name().toLowerCase());
            default -> Optional.empty();
        };
    }

    @Override
    public void server(Empty request, StreamObserver<ServerResponse> out) {
        out.onNext(ServerResponse.newBuilder()
                .setUuid(uuid())
                .setPid(ProcessHandle.current().pid())
                .setPidns(pidNamespace())
                .build());
        out.onCompleted();
    }

    @Override
    public void pluginInfo(PluginInfoRequest request, StreamObserver<PluginInfoResponse> out) {
        for (Plugin p : plugins.all()) {
            if (p.type().equals(request.getType()) && p.id().equals(request.getId())) {
                if (request.hasOptions()) {
                    throw Errdefs.notImplemented("plugin %s.%s takes no info options", p.type(), p.id());
                }
                out.onNext(PluginInfoResponse.newBuilder().setPlugin(PluginInfo.toProto(p)).build());
                out.onCompleted();
                return;
            }
        }
        throw Errdefs.notFound("plugin %s.%s not found", request.getType(), request.getId());
    }

    /** The server's identity, generated once and kept under root so it survives restarts. */
    private synchronized String uuid() {
        try {
            if (Files.exists(uuidFile)) {
                String s = Files.readString(uuidFile).trim();
                try {
                    UUID.fromString(s);
                    return s;
                } catch (IllegalArgumentException corrupt) {
                    // fall through and replace it
                }
            }
            Files.createDirectories(uuidFile.getParent());
            String s = UUID.randomUUID().toString();
            Path tmp = uuidFile.resolveSibling("uuid.tmp");
            Files.writeString(tmp, s);
            Files.move(tmp, uuidFile, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            return s;
        } catch (IOException e) {
            throw new IllegalStateException("server uuid: " + e.getMessage(), e);
        }
    }

    private static long pidNamespace() {
        try {
            String link = Files.readSymbolicLink(Path.of("/proc/self/ns/pid")).toString(); // "pid:[4026531836]"
            return Long.parseLong(link.substring(link.indexOf('[') + 1, link.indexOf(']')));
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    public static final class Provider implements PluginProvider {
        @Override
        public List<Registration> registrations() {
            return List.of(Registration.of(PluginType.GRPC, "introspection", List.of(Registration.ALL),
                    ic -> new IntrospectionService(ic.plugins(), ic.root())));
        }
    }
}
