package io.jcontainerd.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.ServerServiceDefinition;
import io.jcontainerd.api.services.version.v1.VersionGrpc;
import io.jcontainerd.plugin.GrpcService;
import io.jcontainerd.services.health.HealthService;
import io.jcontainerd.services.version.VersionService;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class LazyServicesTest {

    /** Counts its bindings; otherwise the real Version service. */
    static final class CountingVersion implements GrpcService {
        final AtomicInteger binds = new AtomicInteger();
        final VersionService real = new VersionService();

        @Override
        public ServerServiceDefinition bindService() {
            binds.incrementAndGet();
            return real.bindService();
        }

        @Override
        public String serviceName() {
            return real.serviceName();
        }
    }

    @Test
    void serviceNameIsReadWithoutBinding() {
        assertThat(new VersionService().serviceName()).isEqualTo(VersionGrpc.SERVICE_NAME)
                .isEqualTo("containerd.services.version.v1.Version");
        assertThat(new HealthService().serviceName()).isEqualTo("grpc.health.v1.Health");
    }

    @Test
    void serviceNameFallsBackToBindingForHandWrittenServices() {
        GrpcService handWritten = () -> new VersionService().bindService();
        assertThat(handWritten.serviceName()).isEqualTo("containerd.services.version.v1.Version");
    }

    @Test
    void bindsOnFirstCallOnlyAndWrapsOnce() {
        CountingVersion version = new CountingVersion();
        List<String> wrapped = new ArrayList<>();
        LazyServices registry = new LazyServices(List.of(version, new HealthService()), def -> {
            wrapped.add(def.getServiceDescriptor().getName());
            return def;
        });
        assertThat(version.binds).hasValue(0);

        var m = registry.lookupMethod("containerd.services.version.v1.Version/Version", null);
        assertThat(m).isNotNull();
        assertThat(m.getMethodDescriptor().getFullMethodName()).isEqualTo("containerd.services.version.v1.Version/Version");
        assertThat(registry.lookupMethod("containerd.services.version.v1.Version/Version", "localhost")).isSameAs(m);
        assertThat(version.binds).hasValue(1);
        assertThat(wrapped).containsExactly("containerd.services.version.v1.Version");
    }

    @Test
    void unknownMethodsAndServicesAreNull() {
        LazyServices registry = new LazyServices(List.of(new VersionService()), def -> def);
        assertThat(registry.lookupMethod("containerd.services.version.v1.Version/Nope", null)).isNull();
        assertThat(registry.lookupMethod("containerd.services.nope.v1.Nope/Get", null)).isNull();
        assertThat(registry.lookupMethod("no-slash", null)).isNull();
    }

    @Test
    void getServicesBindsEveryService() {
        LazyServices registry = new LazyServices(List.of(new VersionService(), new HealthService()), def -> def);
        assertThat(registry.getServices()).extracting(d -> d.getServiceDescriptor().getName())
                .containsExactly("containerd.services.version.v1.Version", "grpc.health.v1.Health");
    }

    @Test
    void aServiceRegisteredTwiceIsRefused() {
        assertThatThrownBy(() -> new LazyServices(List.of(new VersionService(), new VersionService()), def -> def))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("registered twice");
    }
}
