package io.jcontainerd.server;

import io.grpc.HandlerRegistry;
import io.grpc.MethodDescriptor;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.jcontainerd.plugin.GrpcService;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.UnaryOperator;

/**
 * The plugins' gRPC services, each bound on the first call to it. Binding a generated service builds
 * its method descriptors, whose marshallers load and initialize every request and response class of
 * its proto files (about 400 classes for all services, descriptors parsed at class init); a daemon
 * answering its first Version call needs two services of fifteen. What is served does not change: a
 * method of any registered service resolves, an unknown one is UNIMPLEMENTED as before.
 */
final class LazyServices extends HandlerRegistry {
    private final Map<String, GrpcService> byName = new LinkedHashMap<>();
    private final UnaryOperator<ServerServiceDefinition> wrap;
    private final Map<String, ServerServiceDefinition> bound = new ConcurrentHashMap<>();

    /** {@code wrap} adds the interceptors to a freshly bound service. */
    LazyServices(List<GrpcService> services, UnaryOperator<ServerServiceDefinition> wrap) {
        this.wrap = wrap;
        for (GrpcService s : services) {
            if (byName.putIfAbsent(s.serviceName(), s) != null) {
                throw new IllegalStateException("gRPC service " + s.serviceName() + " is registered twice");
            }
        }
    }

    @Override
    public ServerMethodDefinition<?, ?> lookupMethod(String methodName, String authority) {
        String service = MethodDescriptor.extractFullServiceName(methodName);
        if (service == null) return null;
        ServerServiceDefinition def = bound(service);
        return def == null ? null : def.getMethod(methodName);
    }

    private ServerServiceDefinition bound(String service) {
        ServerServiceDefinition def = bound.get(service);
        if (def != null) return def;
        GrpcService s = byName.get(service);
        if (s == null) return null;
        return bound.computeIfAbsent(service, n -> {
            ServerServiceDefinition d = s.bindService();
            if (!d.getServiceDescriptor().getName().equals(n)) {
                throw new IllegalStateException("service " + n + " binds as " + d.getServiceDescriptor().getName());
            }
            return wrap.apply(d);
        });
    }

    /** Every service, bound (grpc's {@code Server.getServices()}). */
    @Override
    public List<ServerServiceDefinition> getServices() {
        List<ServerServiceDefinition> out = new ArrayList<>(byName.size());
        for (String name : byName.keySet()) out.add(bound(name));
        return out;
    }
}
