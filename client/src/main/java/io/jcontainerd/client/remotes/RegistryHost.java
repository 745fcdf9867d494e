package io.jcontainerd.client.remotes;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One endpoint serving a registry namespace: scheme and host, API path, what it may be used for,
 * and its TLS settings (containerd's RegistryHost as configured by hosts.toml).
 */
public record RegistryHost(String scheme, String host, String path, Set<Capability> capabilities,
                           boolean skipVerify, List<Path> caFiles, Map<String, List<String>> headers) {
    public enum Capability { PULL, RESOLVE, PUSH }

    public static final Set<Capability> ALL = Set.of(Capability.PULL, Capability.RESOLVE, Capability.PUSH);

    public RegistryHost {
        capabilities = Set.copyOf(capabilities);
        caFiles = caFiles == null ? List.of() : List.copyOf(caFiles);
        headers = headers == null ? Map.of() : Map.copyOf(headers);
    }

    public boolean can(Capability c) {
        return capabilities.contains(c);
    }

    /** {@code scheme://host/path}. */
    public String base() {
        return scheme + "://" + host + path;
    }
}
