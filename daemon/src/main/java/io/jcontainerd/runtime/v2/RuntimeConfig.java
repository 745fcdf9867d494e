package io.jcontainerd.runtime.v2;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The {@code [plugins."io.containerd.runtime.v2.task"]} table. {@code platforms} and {@code sched_core}
 * are containerd's keys; {@code runtimes."<name>"} holds jcontainerd's per-runtime settings:
 * {@code shim_binary} names the shim executable (absolute, or looked up on PATH), overriding containerd's
 * {@code io.containerd.<name>.<version>} → {@code containerd-shim-<name>-<version>} rule; {@code shim_group}
 * and {@code shim_idle_timeout} apply when that executable is jcontainerd's own shim, which the daemon then
 * starts itself (see {@link ShimLauncher}).
 */
public record RuntimeConfig(List<String> platforms, boolean schedCore, Map<String, Runtime> runtimes) {

    /**
     * @param shimBinary      the shim executable
     * @param shimGroup       which containers share one built-in shim: {@code container}, {@code pod} or
     *                        {@code namespace} (empty: {@value #DEFAULT_GROUP})
     * @param shimIdleTimeout how long a built-in shim the daemon started keeps running without containers
     */
    public record Runtime(String shimBinary, String shimGroup, Duration shimIdleTimeout) {}

    /** The runtime name containerd clients use by default. */
    public static final String RUNC_V2 = "io.containerd.runc.v2";
    /** The built-in shim's launcher, relative to jcontainerd's home. */
    public static final String BUILTIN_SHIM = "bin/jcontainerd-shim-runc-v2";
    /** The system property the daemon's launcher sets to its installation directory. */
    public static final String HOME_PROPERTY = "jcontainerd.home";
    /** One shim per namespace: see bench/README.md for the measurements behind this default. */
    public static final String DEFAULT_GROUP = "namespace";
    static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(30);

    public static RuntimeConfig defaults() {
        return new RuntimeConfig(List.of(defaultPlatform()), false,
                Map.of(RUNC_V2, new Runtime(defaultRuncShim(), DEFAULT_GROUP, DEFAULT_IDLE_TIMEOUT)));
    }

    /** jcontainerd's Java shim when it is installed beside the daemon, else Debian's/containerd's Go shim. */
    static String defaultRuncShim() {
        return builtinShim().filter(Files::isExecutable).map(Path::toString).orElse("containerd-shim-runc-v2");
    }

    /** Where the built-in shim's launcher is: {@code <jcontainerd.home>/bin/jcontainerd-shim-runc-v2}. */
    static java.util.Optional<Path> builtinShim() {
        String home = System.getProperty(HOME_PROPERTY);
        if (home == null || home.isEmpty()) return java.util.Optional.empty();
        return java.util.Optional.of(Path.of(home).toAbsolutePath().normalize().resolve(BUILTIN_SHIM));
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
