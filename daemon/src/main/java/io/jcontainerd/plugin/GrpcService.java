package io.jcontainerd.plugin;

import io.grpc.ServerServiceDefinition;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;

/** A plugin instance that serves a gRPC service; registered on the server once every plugin is up. */
public interface GrpcService {
    ServerServiceDefinition bindService();

    /**
     * The full service name ({@code containerd.services.version.v1.Version}), which the server uses to
     * bind the service only when it is first called. By default it is read without binding: generated
     * {@code XxxImplBase} classes are nested in {@code XxxGrpc}, whose {@code SERVICE_NAME} holds it.
     */
    default String serviceName() {
        for (Class<?> c = getClass(); c != null && c != Object.class; c = c.getSuperclass()) {
            Class<?> outer = c.getDeclaringClass();
            if (outer == null) continue;
            try {
                Field f = outer.getField("SERVICE_NAME");
                if (Modifier.isStatic(f.getModifiers()) && f.getType() == String.class) return (String) f.get(null);
            } catch (NoSuchFieldException | IllegalAccessException e) {
                // not a generated service base: look further up, else bind
            }
        }
        return bindService().getServiceDescriptor().getName();
    }
}
