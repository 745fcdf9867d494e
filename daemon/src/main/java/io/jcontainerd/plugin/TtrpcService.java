package io.jcontainerd.plugin;

import io.jcontainerd.ttrpc.Method;
import java.util.Map;

/** A plugin instance that serves a ttrpc service on the daemon's {@code <address>.ttrpc} socket (for shims). */
public interface TtrpcService {
    /** Full service name, e.g. {@code containerd.services.events.ttrpc.v1.Events}. */
    String ttrpcServiceName();

    Map<String, Method> ttrpcMethods();
}
