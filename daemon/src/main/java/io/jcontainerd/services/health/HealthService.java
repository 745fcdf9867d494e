package io.jcontainerd.services.health;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.jcontainerd.api.grpc.health.v1.HealthCheckRequest;
import io.jcontainerd.api.grpc.health.v1.HealthCheckResponse;
import io.jcontainerd.api.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.jcontainerd.api.grpc.health.v1.HealthGrpc;
import io.jcontainerd.api.grpc.health.v1.HealthListRequest;
import io.jcontainerd.api.grpc.health.v1.HealthListResponse;
import io.jcontainerd.plugin.GrpcService;
import io.jcontainerd.plugin.PluginProvider;
import io.jcontainerd.plugin.PluginType;
import io.jcontainerd.plugin.Registration;
import java.util.List;

/**
 * grpc.health.v1.Health, as containerd's "healthcheck" plugin: the server as a whole ("") is SERVING
 * once it answers at all; named services are not tracked individually.
 */
public final class HealthService extends HealthGrpc.HealthImplBase implements GrpcService {

    private static final HealthCheckResponse SERVING =
            HealthCheckResponse.newBuilder().setStatus(ServingStatus.SERVING).build();

    @Override
    public void check(HealthCheckRequest request, StreamObserver<HealthCheckResponse> out) {
        if (!request.getService().isEmpty()) {
            out.onError(Status.NOT_FOUND.withDescription("unknown service " + request.getService()).asRuntimeException());
            return;
        }
        out.onNext(SERVING);
        out.onCompleted();
    }

    @Override
    public void list(HealthListRequest request, StreamObserver<HealthListResponse> out) {
        out.onNext(HealthListResponse.newBuilder().putStatuses("", SERVING).build());
        out.onCompleted();
    }

    @Override
    public void watch(HealthCheckRequest request, StreamObserver<HealthCheckResponse> out) {
        // The status never changes while the server runs; the stream stays open until the client leaves.
        out.onNext(request.getService().isEmpty() ? SERVING
                : HealthCheckResponse.newBuilder().setStatus(ServingStatus.SERVICE_UNKNOWN).build());
    }

    public static final class Provider implements PluginProvider {
        @Override
        public List<Registration> registrations() {
            return List.of(Registration.of(PluginType.GRPC, "healthcheck", List.of(), ic -> new HealthService()));
        }
    }
}
