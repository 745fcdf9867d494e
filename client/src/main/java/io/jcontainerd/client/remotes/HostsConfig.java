package io.jcontainerd.client.remotes;

import io.jcontainerd.client.ClientException;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Registry endpoints for a reference's host, read like containerd's {@code certs.d} layout:
 * {@code <dir>/<host>_<port>_/hosts.toml}, {@code <dir>/<host[:port]>/hosts.toml} (or {@code <dir>/_default/hosts.toml}) lists mirrors as
 * {@code [host."<url>"]} tables, tried in order, then {@code server} (default: the host itself).
 * Without a file the host is used directly: https (trusting the directory's {@code *.crt} files, if
 * there is a directory), or http when {@code plainHttp}; docker.io becomes registry-1.docker.io.
 */
public final class HostsConfig {
    private HostsConfig() {}

    public static List<RegistryHost> hosts(String refHost, Path configDir, boolean plainHttp, boolean skipVerify) {
        Path dir = null;
        if (configDir != null) {
            int colon = refHost.lastIndexOf(':');
            // ":port" is "_port_" in directory names, as containerd spells it; the plain name works too.
            // As containerd, the first directory that exists decides, whatever it holds.
            String portDir = colon > 0 ? refHost.substring(0, colon) + "_" + refHost.substring(colon + 1) + "_" : refHost;
            for (String d : List.of(portDir, refHost, "_default")) {
                if (Files.isDirectory(configDir.resolve(d))) {
                    dir = configDir.resolve(d);
                    break;
                }
            }
        }
        // as containerd: a loopback registry without a configured server is spoken to in plain HTTP
        boolean local = isLocalhost(refHost);
        String defaultServer = (plainHttp || local ? "http" : "https") + "://"
                + (refHost.equals("docker.io") ? "registry-1.docker.io" : refHost);
        Path file = dir == null ? null : dir.resolve("hosts.toml");
        if (file == null || !Files.isRegularFile(file)) {
            // no hosts.toml: Docker's certs.d convention, every *.crt in the directory is a CA for the host
            return List.of(host(defaultServer, RegistryHost.ALL, skipVerify || local, dir == null ? List.of() : crtFiles(dir),
                    Map.of(), false));
        }
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw ClientException.invalidArgument("reading %s: %s", file, e.getMessage());
        }
        Map<String, Object> root;
        try {
            root = Toml.parse(text);
        } catch (IllegalArgumentException e) {
            throw ClientException.invalidArgument("%s: %s", file, e.getMessage());
        }
        List<RegistryHost> out = new ArrayList<>();
        if (root.get("host") instanceof Map<?, ?> hostsTable) {
            for (var e : hostsTable.entrySet()) {
                if (!(e.getValue() instanceof Map<?, ?> h)) continue;
                out.add(fromTable(String.valueOf(e.getKey()), h, file, skipVerify, plainHttp));
            }
        }
        boolean serverSet = root.get("server") instanceof String;
        String server = serverSet ? (String) root.get("server") : defaultServer;
        out.add(fromTable(server, root, file, skipVerify || (local && !serverSet), plainHttp));
        return out;
    }

    private static RegistryHost fromTable(String url, Map<?, ?> t, Path file, boolean skipVerifyDefault, boolean plainHttp) {
        Set<RegistryHost.Capability> caps = EnumSet.noneOf(RegistryHost.Capability.class);
        if (t.get("capabilities") instanceof List<?> l) {
            for (Object o : l) {
                switch (String.valueOf(o)) {
                    case "pull" -> caps.add(RegistryHost.Capability.PULL);
                    case "resolve" -> caps.add(RegistryHost.Capability.RESOLVE);
                    case "push" -> caps.add(RegistryHost.Capability.PUSH);
                    default -> throw ClientException.invalidArgument("%s: unknown capability %s", file, o);
                }
            }
        } else {
            caps.addAll(RegistryHost.ALL);
        }
        boolean skip = t.get("skip_verify") instanceof Boolean b ? b : skipVerifyDefault;
        List<Path> cas = new ArrayList<>();
        Object ca = t.get("ca");
        if (ca instanceof String s) cas.add(resolve(file, s));
        else if (ca instanceof List<?> l) l.forEach(o -> cas.add(resolve(file, String.valueOf(o))));
        Map<String, List<String>> headers = new LinkedHashMap<>();
        if (t.get("header") instanceof Map<?, ?> h) {
            h.forEach((k, v) -> headers.put(String.valueOf(k), v instanceof List<?> vl ? vl.stream().map(String::valueOf).toList()
                    : List.of(String.valueOf(v))));
        }
        boolean overridePath = Boolean.TRUE.equals(t.get("override_path"));
        if (!url.contains("://")) url = (plainHttp ? "http://" : "https://") + url;
        return host(url, caps, skip, cas, headers, overridePath);
    }

    /** localhost or a loopback address, with or without a port (containerd's docker.IsLocalhost). */
    static boolean isLocalhost(String host) {
        String h = host;
        if (h.startsWith("[")) {
            int end = h.indexOf(']');
            h = end > 0 ? h.substring(1, end) : h;
        } else if (h.indexOf(':') == h.lastIndexOf(':') && h.indexOf(':') > 0) {
            h = h.substring(0, h.indexOf(':'));
        }
        if (h.equals("localhost")) return true;
        if (h.equals("::1")) return true;
        String[] parts = h.split("\\.");
        if (parts.length != 4 || !parts[0].equals("127")) return false;
        for (String p : parts) {
            if (!p.matches("\\d{1,3}") || Integer.parseInt(p) > 255) return false;
        }
        return true;
    }

    private static List<Path> crtFiles(Path dir) {
        try (var entries = Files.list(dir)) {
            return entries.filter(p -> p.getFileName().toString().endsWith(".crt") && Files.isRegularFile(p)).sorted().toList();
        } catch (IOException e) {
            throw ClientException.invalidArgument("reading %s: %s", dir, e.getMessage());
        }
    }

    private static Path resolve(Path file, String p) {
        Path path = Path.of(p);
        return path.isAbsolute() ? path : file.getParent().resolve(path);
    }

    private static RegistryHost host(String url, Set<RegistryHost.Capability> caps, boolean skip, List<Path> cas,
                                     Map<String, List<String>> headers, boolean overridePath) {
        URI u = URI.create(url);
        String path = u.getRawPath() == null ? "" : u.getRawPath();
        while (path.endsWith("/")) path = path.substring(0, path.length() - 1);
        // as containerd: the API path is /v2 unless the URL names it or override_path says not to
        if (!overridePath && !path.endsWith("/v2")) path = path + "/v2";
        String hostPort = u.getPort() > 0 ? u.getHost() + ":" + u.getPort() : u.getHost();
        return new RegistryHost(u.getScheme(), hostPort, path, caps, skip, cas, headers);
    }
}
