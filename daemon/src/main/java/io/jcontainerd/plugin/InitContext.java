package io.jcontainerd.plugin;

import io.jcontainerd.config.Config;
import io.jcontainerd.events.Publisher;
import java.nio.file.Path;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a plugin's init receives: its own directories (root/&lt;type&gt;.&lt;id&gt;, state/&lt;type&gt;.&lt;id&gt;,
 * created on demand by the plugin), its decoded config, the daemon's addresses, the event publisher,
 * and the plugins initialized before it.
 */
public final class InitContext {
    private final Registration registration;
    private final Config serverConfig;
    private final Object config;
    private final Publisher events;
    private final PluginSet plugins;
    private final Clock clock;
    private final Map<String, String> exports = new LinkedHashMap<>();
    private final java.util.List<Platform> platforms = new java.util.ArrayList<>();

    public InitContext(Registration registration, Config serverConfig, Object config, Publisher events,
                       PluginSet plugins, Clock clock) {
        this.registration = registration;
        this.serverConfig = serverConfig;
        this.config = config;
        this.events = events;
        this.plugins = plugins;
        this.clock = clock;
    }

    public Registration registration() {
        return registration;
    }

    public Path root() {
        return Path.of(serverConfig.root(), registration.uri());
    }

    public Path state() {
        return Path.of(serverConfig.state(), registration.uri());
    }

    /** The plugin's config record: its defaults overlaid with its {@code [plugins."type.id"]} table. */
    public <T> T config(Class<T> type) {
        return type.cast(config);
    }

    public Config serverConfig() {
        return serverConfig;
    }

    /** The daemon's gRPC socket path, as shims are told it. */
    public String address() {
        return serverConfig.grpc().address();
    }

    public String ttrpcAddress() {
        return serverConfig.ttrpcAddress();
    }

    public Publisher events() {
        return events;
    }

    public PluginSet plugins() {
        return plugins;
    }

    public Clock clock() {
        return clock;
    }

    /** Platforms the plugin serves, shown in introspection (empty: all). */
    public java.util.List<Platform> platforms() {
        return platforms;
    }

    /** Values shown as the plugin's {@code exports} in introspection (e.g. a snapshotter's root). */
    public Map<String, String> exports() {
        return exports;
    }
}
