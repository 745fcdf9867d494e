package io.jcontainerd.leases;

import io.grpc.Context;
import io.grpc.Metadata;

/** The lease a request works under: the {@code containerd-lease} header, carried in the call's context. */
public final class Leases {
    private Leases() {}

    /** gRPC metadata key carrying the lease id. */
    public static final String GRPC_HEADER = "containerd-lease";

    public static final Metadata.Key<String> GRPC_KEY = Metadata.Key.of(GRPC_HEADER, Metadata.ASCII_STRING_MARSHALLER);
    /** The lease of the current gRPC call, set by {@link LeaseInterceptor}; null when absent. */
    public static final Context.Key<String> CONTEXT_KEY = Context.key(GRPC_HEADER);

    /** The current call's lease id, or null when the request names none. */
    public static String fromContext() {
        String id = CONTEXT_KEY.get();
        return id == null || id.isEmpty() ? null : id;
    }
}
