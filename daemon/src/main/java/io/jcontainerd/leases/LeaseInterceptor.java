package io.jcontainerd.leases;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;

/**
 * Copies the {@code containerd-lease} header into the call's context, so services attach what they
 * create (ingests, blobs, snapshots) to that lease. containerd reads the first value of the header.
 */
public final class LeaseInterceptor implements ServerInterceptor {
    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        String lease = headers.get(Leases.GRPC_KEY);
        if (lease == null) return next.startCall(call, headers);
        return Contexts.interceptCall(Context.current().withValue(Leases.CONTEXT_KEY, lease), call, headers, next);
    }
}
