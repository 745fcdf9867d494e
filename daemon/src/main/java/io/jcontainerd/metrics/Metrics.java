package io.jcontainerd.metrics;

import io.jcontainerd.debug.HttpEndpoint;
import io.jcontainerd.plugin.Plugin;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Collection;
import java.util.Locale;
import java.util.Map;

/**
 * The daemon's metrics ({@code [metrics] address}): a registry of its own, the gRPC interceptor,
 * plugin init durations, and JVM metrics once the listener is up. Create it only when metrics are
 * configured: nothing here (nor the Prometheus client) is loaded otherwise.
 */
public final class Metrics {

    /** Where containerd serves metrics on the metrics listener. */
    public static final String PATH = "/v1/metrics";
    public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final boolean grpcHistogram;
    private final Gauge pluginInit;
    private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();
    private GrpcMetrics grpc;
    private boolean jvmRegistered;

    /** @param grpcHistogram {@code [metrics] grpc_histogram}: also record RPC handling time */
    public Metrics(boolean grpcHistogram) {
        this.grpcHistogram = grpcHistogram;
        pluginInit = Gauge.builder().name("jcontainerd_plugin_init_seconds")
                .help("Seconds a plugin took to initialize, by outcome (ok, skip, error).")
                .labelNames("type", "id", "status").register(registry);
    }

    public PrometheusRegistry registry() {
        return registry;
    }

    /** The server interceptor recording per-method gRPC metrics; the same instance on every call. */
    public synchronized GrpcMetrics grpc() {
        if (grpc == null) {
            grpc = new GrpcMetrics(registry, grpcHistogram);
        }
        return grpc;
    }

    public void recordPluginInit(String type, String id, String status, long nanos) {
        pluginInit.labelValues(type, id, status).set(nanos / 1e9);
    }

    /** Records each plugin's init time under its status in lower case ({@code ok}, {@code skip}, {@code error}). */
    public void recordPlugins(Collection<Plugin> plugins) {
        for (Plugin p : plugins) {
            recordPluginInit(p.type(), p.id(), p.status().name().toLowerCase(Locale.ROOT), p.initNanos());
        }
    }

    /** Adds the JVM's memory, GC, thread, class-loading and process metrics; once. */
    public synchronized void registerJvmMetrics() {
        if (!jvmRegistered) {
            JvmMetrics.builder().register(registry);
            jvmRegistered = true;
        }
    }

    /** The registry in Prometheus text format 0.0.4. */
    public byte[] scrape() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(8192);
        try {
            writer.write(out, registry.scrape());
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a ByteArrayOutputStream doesn't fail
        }
        return out.toByteArray();
    }

    /** The metrics listener's routes: {@value #PATH}. */
    public Map<String, HttpEndpoint.Handler> routes() {
        return Map.of(PATH, _ -> new HttpEndpoint.Response(200, CONTENT_TYPE, scrape()));
    }

    /**
     * Starts the metrics listener on a TCP {@code host:port} (or a unix socket path) and registers the
     * JVM metrics, which are only worth collecting once something can scrape them.
     */
    public HttpEndpoint listen(String address) throws IOException {
        registerJvmMetrics();
        return HttpEndpoint.listen(address, -1, -1, routes());
    }
}
