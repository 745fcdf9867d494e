package io.jcontainerd.metrics;

import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Per-method gRPC server metrics under the names and labels of go-grpc-prometheus, which containerd
 * exposes: {@code grpc_server_started_total}, {@code grpc_server_handled_total} (with {@code grpc_code}),
 * {@code grpc_server_msg_received_total}, {@code grpc_server_msg_sent_total}, and with
 * {@code grpc_histogram} the {@code grpc_server_handling_seconds} histogram.
 * Only installed when the metrics listener is configured, so it costs nothing otherwise.
 */
public final class GrpcMetrics implements ServerInterceptor {

    private static final String[] METHOD_LABELS = {"grpc_type", "grpc_service", "grpc_method"};

    private final Counter started;
    private final Counter handled;
    private final Counter received;
    private final Counter sent;
    private final Histogram handling;
    private final ConcurrentHashMap<String, MethodMetrics> methods = new ConcurrentHashMap<>();

    GrpcMetrics(PrometheusRegistry registry, boolean histogram) {
        started = Counter.builder().name("grpc_server_started_total")
                .help("RPCs started on the server.")
                .labelNames(METHOD_LABELS).register(registry);
        handled = Counter.builder().name("grpc_server_handled_total")
                .help("RPCs completed on the server, whatever their status.")
                .labelNames("grpc_type", "grpc_service", "grpc_method", "grpc_code").register(registry);
        received = Counter.builder().name("grpc_server_msg_received_total")
                .help("Messages received by the server on RPC streams.")
                .labelNames(METHOD_LABELS).register(registry);
        sent = Counter.builder().name("grpc_server_msg_sent_total")
                .help("Messages sent by the server on RPC streams.")
                .labelNames(METHOD_LABELS).register(registry);
        handling = !histogram ? null : Histogram.builder().name("grpc_server_handling_seconds")
                .help("Seconds from an RPC's start until the server handled it.")
                .labelNames(METHOD_LABELS)
                .classicOnly() // Prometheus' default buckets, as the Go client uses
                .classicUpperBounds(.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10)
                .register(registry);
    }

    /**
     * Creates every series of the service's methods at zero (all status codes included), as
     * go-grpc-prometheus does for registered services, so rates work from the first scrape.
     */
    public void initialize(ServerServiceDefinition service) {
        for (ServerMethodDefinition<?, ?> m : service.getMethods()) {
            MethodMetrics mm = metrics(m.getMethodDescriptor());
            for (Status.Code code : Status.Code.values()) {
                handled.initLabelValues(mm.type, mm.service, mm.method, codeName(code));
            }
        }
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                       ServerCallHandler<Q, R> next) {
        MethodMetrics m = metrics(call.getMethodDescriptor());
        m.started.inc();
        Outcome outcome = new Outcome(m, System.nanoTime());
        ServerCall<Q, R> counted = new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
            @Override
            public void sendMessage(R message) {
                super.sendMessage(message);
                m.sent.inc();
            }

            @Override
            public void close(Status status, Metadata trailers) {
                outcome.record(status.getCode());
                super.close(status, trailers);
            }
        };
        ServerCall.Listener<Q> listener;
        try {
            listener = next.startCall(counted, headers);
        } catch (RuntimeException | Error e) {
            outcome.record(Status.Code.UNKNOWN);
            throw e;
        }
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
            @Override
            public void onMessage(Q message) {
                m.received.inc();
                guarded(() -> super.onMessage(message));
            }

            @Override
            public void onHalfClose() {
                guarded(super::onHalfClose);
            }

            @Override
            public void onCancel() {
                // the client cancelled, or the transport closed the call without our close()
                outcome.record(Status.Code.CANCELLED);
                super.onCancel();
            }

            /** grpc-java fails a call whose handler throws with UNKNOWN, bypassing ServerCall.close. */
            private void guarded(Runnable r) {
                try {
                    r.run();
                } catch (RuntimeException | Error e) {
                    outcome.record(Status.Code.UNKNOWN);
                    throw e;
                }
            }
        };
    }

    private MethodMetrics metrics(MethodDescriptor<?, ?> d) {
        MethodMetrics m = methods.get(d.getFullMethodName());
        return m != null ? m : methods.computeIfAbsent(d.getFullMethodName(), _ -> new MethodMetrics(d));
    }

    /** The data points of one method, resolved once instead of per call. */
    private final class MethodMetrics {
        final String type;
        final String service;
        final String method;
        final CounterDataPoint started;
        final CounterDataPoint received;
        final CounterDataPoint sent;
        final DistributionDataPoint handling;

        MethodMetrics(MethodDescriptor<?, ?> d) {
            type = switch (d.getType()) {
                case UNARY -> "unary";
                case CLIENT_STREAMING -> "client_stream";
                case SERVER_STREAMING -> "server_stream";
                case BIDI_STREAMING, UNKNOWN -> "bidi_stream";
            };
            service = d.getServiceName() == null ? "" : d.getServiceName();
            method = d.getBareMethodName() == null ? d.getFullMethodName() : d.getBareMethodName();
            started = GrpcMetrics.this.started.labelValues(type, service, method);
            received = GrpcMetrics.this.received.labelValues(type, service, method);
            sent = GrpcMetrics.this.sent.labelValues(type, service, method);
            handling = GrpcMetrics.this.handling == null ? null : GrpcMetrics.this.handling.labelValues(type, service, method);
        }
    }

    /** Records a call's end exactly once, whichever way it ends. */
    private final class Outcome {
        private final MethodMetrics m;
        private final long startNanos;
        private final AtomicBoolean done = new AtomicBoolean();

        Outcome(MethodMetrics m, long startNanos) {
            this.m = m;
            this.startNanos = startNanos;
        }

        void record(Status.Code code) {
            if (!done.compareAndSet(false, true)) {
                return;
            }
            handled.labelValues(m.type, m.service, m.method, codeName(code)).inc();
            if (m.handling != null) {
                m.handling.observe((System.nanoTime() - startNanos) / 1e9);
            }
        }
    }

    /** Go's names for status codes (codes.Code.String()), which the grpc_code label carries. */
    static String codeName(Status.Code code) {
        return switch (code) {
            case OK -> "OK";
            case CANCELLED -> "Canceled";
            case UNKNOWN -> "Unknown";
            case INVALID_ARGUMENT -> "InvalidArgument";
            case DEADLINE_EXCEEDED -> "DeadlineExceeded";
            case NOT_FOUND -> "NotFound";
            case ALREADY_EXISTS -> "AlreadyExists";
            case PERMISSION_DENIED -> "PermissionDenied";
            case RESOURCE_EXHAUSTED -> "ResourceExhausted";
            case FAILED_PRECONDITION -> "FailedPrecondition";
            case ABORTED -> "Aborted";
            case OUT_OF_RANGE -> "OutOfRange";
            case UNIMPLEMENTED -> "Unimplemented";
            case INTERNAL -> "Internal";
            case UNAVAILABLE -> "Unavailable";
            case DATA_LOSS -> "DataLoss";
            case UNAUTHENTICATED -> "Unauthenticated";
        };
    }
}
