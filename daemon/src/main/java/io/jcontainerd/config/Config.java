package io.jcontainerd.config;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The daemon configuration in containerd's version 2 format. Field names map to TOML keys in
 * snake_case ({@code maxRecvMessageSize} is {@code max_recv_message_size}). Plugin tables stay raw
 * here ({@code [plugins."<type>.<id>"]}) and are decoded into each plugin's own record at init.
 */
public record Config(
        int version,
        String root,
        String state,
        String temp,
        GrpcConfig grpc,
        TtrpcConfig ttrpc,
        DebugConfig debug,
        MetricsConfig metrics,
        List<String> disabledPlugins,
        List<String> requiredPlugins,
        Map<String, String> timeouts,
        Map<String, Map<String, Object>> plugins) {

    public static final String DEFAULT_ROOT = "/var/lib/jcontainerd";
    public static final String DEFAULT_STATE = "/run/jcontainerd";
    public static final String DEFAULT_ADDRESS = "/run/jcontainerd/jcontainerd.sock";
    public static final String DEFAULT_CONFIG_PATH = "/etc/jcontainerd/config.toml";
    public static final int DEFAULT_MAX_MESSAGE_SIZE = 16 << 20;

    public record GrpcConfig(String address, String tcpAddress, int uid, int gid,
                             int maxRecvMessageSize, int maxSendMessageSize) {}

    public record TtrpcConfig(String address, int uid, int gid) {}

    public record DebugConfig(String address, int uid, int gid, String level, String format) {}

    public record MetricsConfig(String address, boolean grpcHistogram) {}

    public Config {
        disabledPlugins = List.copyOf(disabledPlugins);
        requiredPlugins = List.copyOf(requiredPlugins);
        timeouts = Map.copyOf(timeouts);
        plugins = Map.copyOf(plugins);
    }

    /** The embedded defaults: what the daemon runs with when no config file exists. */
    public static Config defaults() {
        Map<String, String> timeouts = new LinkedHashMap<>();
        timeouts.put("io.containerd.timeout.metadata.open", "0s");
        timeouts.put("io.containerd.timeout.shim.cleanup", "5s");
        timeouts.put("io.containerd.timeout.shim.load", "5s");
        timeouts.put("io.containerd.timeout.shim.shutdown", "3s");
        timeouts.put("io.containerd.timeout.task.state", "2s");
        return new Config(2, DEFAULT_ROOT, DEFAULT_STATE, "",
                new GrpcConfig(DEFAULT_ADDRESS, "", 0, 0, DEFAULT_MAX_MESSAGE_SIZE, DEFAULT_MAX_MESSAGE_SIZE),
                new TtrpcConfig("", 0, 0),
                new DebugConfig("", 0, 0, "", ""),
                new MetricsConfig("", false),
                List.of(), List.of(), timeouts, Map.of());
    }

    /** The ttrpc (shim protocol) socket: configured, or the gRPC address plus {@code .ttrpc}. */
    public String ttrpcAddress() {
        return ttrpc.address().isEmpty() ? grpc.address() + ".ttrpc" : ttrpc.address();
    }

    public Config withRoot(String v) {
        return new Config(version, v, state, temp, grpc, ttrpc, debug, metrics, disabledPlugins, requiredPlugins, timeouts, plugins);
    }

    public Config withState(String v) {
        return new Config(version, root, v, temp, grpc, ttrpc, debug, metrics, disabledPlugins, requiredPlugins, timeouts, plugins);
    }

    public Config withAddress(String v) {
        GrpcConfig g = new GrpcConfig(v, grpc.tcpAddress(), grpc.uid(), grpc.gid(), grpc.maxRecvMessageSize(), grpc.maxSendMessageSize());
        return new Config(version, root, state, temp, g, ttrpc, debug, metrics, disabledPlugins, requiredPlugins, timeouts, plugins);
    }

    public Config withLogLevel(String v) {
        DebugConfig d = new DebugConfig(debug.address(), debug.uid(), debug.gid(), v, debug.format());
        return new Config(version, root, state, temp, grpc, ttrpc, d, metrics, disabledPlugins, requiredPlugins, timeouts, plugins);
    }
}
