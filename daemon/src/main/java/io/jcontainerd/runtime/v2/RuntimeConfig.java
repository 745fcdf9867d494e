package io.jcontainerd.runtime.v2;

import java.util.List;
import java.util.Map;

/**
 * The {@code [plugins."io.containerd.runtime.v2.task"]} table. {@code platforms} and {@code sched_core}
 * are containerd's keys; {@code runtimes."<name>".shim_binary} names the shim executable for a runtime
 * name (absolute, or looked up on PATH), overriding containerd's
 * {@code io.containerd.<name>.<version>} → {@code containerd-shim-<name>-<version>} rule.
 */
public record RuntimeConfig(List<String> platforms, boolean schedCore, Map<String, Runtime> runtimes) {

    public record Runtime(String shimBinary) {}

    /** The runtime name containerd clients use by default. */
    public static final String RUNC_V2 = "io.containerd.runc.v2";

    public static RuntimeConfig defaults() {
        // Debian's Go shim for now; the Java shim replaces this default when it lands
        return new RuntimeConfig(List.of(defaultPlatform()), false, Map.of(RUNC_V2, new Runtime("containerd-shim-runc-v2")));
    }

    /** containerd's default platform string for this machine, e.g. {@code linux/amd64}. */
    static String defaultPlatform() {
        String arch = System.getProperty("os.arch");
        return "linux/" + switch (arch) {
            case "x86_64", "amd64" -> "amd64";
            case "aarch64" -> "arm64";
            default -> arch;
        };
    }
}
