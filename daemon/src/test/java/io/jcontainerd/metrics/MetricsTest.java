package io.jcontainerd.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.jcontainerd.api.grpc.health.v1.HealthCheckRequest;
import io.jcontainerd.api.grpc.health.v1.HealthCheckResponse;
import io.jcontainerd.api.grpc.health.v1.HealthGrpc;
import io.jcontainerd.debug.HttpEndpoint;
import io.jcontainerd.plugin.Plugin;
import io.jcontainerd.plugin.Registration;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MetricsTest {

    private static final String SVC = "grpc_service=\"grpc.health.v1.Health\"";

    /** A real health service: "" is serving, "boom" throws, anything else is unknown. */
    static final class Health extends HealthGrpc.HealthImplBase {
        @Override
        public void check(HealthCheckRequest request, StreamObserver<HealthCheckResponse> out) {
            switch (request.getService()) {
                case "" -> {
                    out.onNext(HealthCheckResponse.newBuilder().setStatus(HealthCheckResponse.ServingStatus.SERVING).build());
                    out.onCompleted();
                }
                case "boom" -> throw new IllegalStateException("handler bug");
                default -> out.onError(Status.NOT_FOUND.withDescription("unknown service").asRuntimeException());
            }
        }

        @Override
        public void watch(HealthCheckRequest request, StreamObserver<HealthCheckResponse> out) {
            out.onNext(HealthCheckResponse.newBuilder().setStatus(HealthCheckResponse.ServingStatus.NOT_SERVING).build());
            out.onNext(HealthCheckResponse.newBuilder().setStatus(HealthCheckResponse.ServingStatus.SERVING).build());
            out.onCompleted();
        }
    }

    private static String text(Metrics metrics) {
        return new String(metrics.scrape(), StandardCharsets.UTF_8);
    }

    @Test
    void grpcCountersFollowGoGrpcPrometheusNames() throws Exception {
        Metrics metrics = new Metrics(true);
        Health health = new Health();
        metrics.grpc().initialize(health.bindService());
        // grpc-inprocess is not a dependency: a real server on loopback instead
        Server server = Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create())
                .addService(ServerInterceptors.intercept(health, metrics.grpc())).build().start();
        ManagedChannel channel = Grpc.newChannelBuilderForAddress("127.0.0.1", server.getPort(),
                InsecureChannelCredentials.create()).build();
        try {
            HealthGrpc.HealthBlockingStub stub = HealthGrpc.newBlockingStub(channel);
            assertThat(stub.check(HealthCheckRequest.getDefaultInstance()).getStatus())
                    .isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
            stub.check(HealthCheckRequest.getDefaultInstance());
            assertThatThrownBy(() -> stub.check(HealthCheckRequest.newBuilder().setService("x").build()))
                    .isInstanceOf(StatusRuntimeException.class).hasMessageContaining("NOT_FOUND");
            assertThatThrownBy(() -> stub.check(HealthCheckRequest.newBuilder().setService("boom").build()))
                    .isInstanceOf(StatusRuntimeException.class).hasMessageContaining("UNKNOWN");
            List<HealthCheckResponse> watched = new java.util.ArrayList<>();
            stub.watch(HealthCheckRequest.getDefaultInstance()).forEachRemaining(watched::add);
            assertThat(watched).hasSize(2);
        } finally {
            channel.shutdownNow();
            server.shutdownNow().awaitTermination(5, java.util.concurrent.TimeUnit.SECONDS);
        }

        String text = text(metrics);
        String unary = "grpc_method=\"Check\"," + SVC + ",grpc_type=\"unary\"";
        String stream = "grpc_method=\"Watch\"," + SVC + ",grpc_type=\"server_stream\"";
        assertThat(text).contains(
                "# TYPE grpc_server_started_total counter",
                "grpc_server_started_total{" + unary + "} 4.0",
                "grpc_server_started_total{" + stream + "} 1.0",
                "grpc_server_handled_total{grpc_code=\"OK\"," + unary + "} 2.0",
                "grpc_server_handled_total{grpc_code=\"NotFound\"," + unary + "} 1.0",
                "grpc_server_handled_total{grpc_code=\"Unknown\"," + unary + "} 1.0",
                "grpc_server_handled_total{grpc_code=\"OK\"," + stream + "} 1.0",
                "grpc_server_msg_received_total{" + unary + "} 4.0",
                "grpc_server_msg_sent_total{" + unary + "} 2.0",
                "grpc_server_msg_sent_total{" + stream + "} 2.0",
                "# TYPE grpc_server_handling_seconds histogram",
                "grpc_server_handling_seconds_bucket{" + unary + ",le=\"0.005\"}",
                "grpc_server_handling_seconds_count{" + unary + "} 4",
                // pre-initialized at zero, as for every registered method
                "grpc_server_handled_total{grpc_code=\"Unauthenticated\"," + stream + "} 0.0");
        assertThat(text).doesNotContain("jvm_"); // only once the listener is up
    }

    @Test
    void noHistogramUnlessEnabled() {
        Metrics metrics = new Metrics(false);
        metrics.grpc().initialize(new Health().bindService());
        assertThat(text(metrics)).contains("grpc_server_started_total").doesNotContain("grpc_server_handling_seconds");
    }

    @Test
    void goCodeNames() {
        assertThat(GrpcMetrics.codeName(Status.Code.CANCELLED)).isEqualTo("Canceled");
        assertThat(GrpcMetrics.codeName(Status.Code.DEADLINE_EXCEEDED)).isEqualTo("DeadlineExceeded");
    }

    @Test
    void pluginInitGauge() {
        Metrics metrics = new Metrics(false);
        metrics.recordPluginInit("io.containerd.content.v1", "content", "ok", 1_500_000_000L);
        Registration reg = Registration.of("io.containerd.snapshotter.v1", "btrfs", List.of(), _ -> null);
        metrics.recordPlugins(List.of(new Plugin(reg, Plugin.Status.SKIP, null, null, Map.of(), List.of(), 2_000_000L)));
        assertThat(text(metrics)).contains(
                "# TYPE jcontainerd_plugin_init_seconds gauge",
                "jcontainerd_plugin_init_seconds{id=\"content\",status=\"ok\",type=\"io.containerd.content.v1\"} 1.5",
                "jcontainerd_plugin_init_seconds{id=\"btrfs\",status=\"skip\",type=\"io.containerd.snapshotter.v1\"} 0.002");
    }

    @Test
    void listenerServesPrometheusTextWithJvmMetrics() throws Exception {
        Metrics metrics = new Metrics(false);
        metrics.recordPluginInit("io.containerd.grpc.v1", "version", "ok", 1_000L);
        assertThat(Metrics.CONTENT_TYPE).isEqualTo(PrometheusTextFormatWriter.CONTENT_TYPE);
        try (HttpEndpoint endpoint = metrics.listen("127.0.0.1:0");
             HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + endpoint.port() + Metrics.PATH)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("content-type")).hasValue("text/plain; version=0.0.4; charset=utf-8");
            assertThat(r.body()).contains("jcontainerd_plugin_init_seconds{", "jvm_memory_used_bytes", "process_cpu_seconds_total");
        }
        metrics.registerJvmMetrics(); // idempotent
    }
}
