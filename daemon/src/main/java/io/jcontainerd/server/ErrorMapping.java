package io.jcontainerd.server;

import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.jcontainerd.errdefs.Errdefs;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;

/**
 * The one place where exceptions thrown by service code become gRPC statuses, so services simply
 * throw {@code ContainerdException}s. Unclassified failures are logged, since they are our bugs.
 */
final class ErrorMapping implements ServerInterceptor {
    private static final Logger LOG = System.getLogger(ErrorMapping.class.getName());

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        OnceClosed<Q, R> guarded = new OnceClosed<>(call);
        ServerCall.Listener<Q> delegate;
        try {
            delegate = next.startCall(guarded, headers);
        } catch (RuntimeException e) {
            guarded.fail(e);
            return new ServerCall.Listener<>() {};
        }
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(delegate) {
            @Override
            public void onMessage(Q message) {
                try {
                    super.onMessage(message);
                } catch (RuntimeException e) {
                    guarded.fail(e);
                }
            }

            @Override
            public void onHalfClose() {
                try {
                    super.onHalfClose();
                } catch (RuntimeException e) {
                    guarded.fail(e);
                }
            }

            @Override
            public void onReady() {
                try {
                    super.onReady();
                } catch (RuntimeException e) {
                    guarded.fail(e);
                }
            }
        };
    }

    /** Remembers whether the call was closed so a late failure is not reported twice. */
    private static final class OnceClosed<Q, R> extends ForwardingServerCall.SimpleForwardingServerCall<Q, R> {
        private volatile boolean closed;

        OnceClosed(ServerCall<Q, R> call) {
            super(call);
        }

        @Override
        public void close(Status status, Metadata trailers) {
            closed = true;
            super.close(status, trailers);
        }

        void fail(RuntimeException e) {
            Status s = Errdefs.toStatus(e);
            if (s.getCode() == Status.Code.UNKNOWN) {
                LOG.log(Level.WARNING, getMethodDescriptor().getFullMethodName() + " failed: " + e, e);
            }
            if (!closed) close(s, new Metadata());
        }
    }
}
