package io.jcontainerd.namespaces;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;

/** Copies the {@code containerd-namespace} header into the call's context for {@link Namespaces#required()}. */
public final class NamespaceInterceptor implements ServerInterceptor {
    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        String ns = headers.get(Namespaces.GRPC_KEY);
        if (ns == null) return next.startCall(call, headers);
        return Contexts.interceptCall(Context.current().withValue(Namespaces.CONTEXT_KEY, ns), call, headers, next);
    }
}
