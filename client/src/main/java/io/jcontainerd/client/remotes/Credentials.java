package io.jcontainerd.client.remotes;

import io.jcontainerd.client.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;

/** Registry credentials by host: fixed ones (flags) or a docker {@code config.json}'s {@code auths}. */
@FunctionalInterface
public interface Credentials {
    /** A user and secret for {@code host}, or null for anonymous. */
    Secret lookup(String host);

    /** A username and password (or an identity token with an empty username). */
    record Secret(String username, String password) {
        @Override
        public String toString() {
            return "Secret[" + username + ", ***]";
        }
    }

    static Credentials anonymous() {
        return host -> null;
    }

    /** The same secret for every host (e.g. {@code --user user:pass}). */
    static Credentials fixed(String username, String password) {
        Secret s = new Secret(username, password);
        return host -> s;
    }

    /** {@code user:password} as the {@code --user} flag takes it. */
    static Credentials parseUser(String userColonPassword) {
        int c = userColonPassword.indexOf(':');
        return c < 0 ? fixed(userColonPassword, "") : fixed(userColonPassword.substring(0, c), userColonPassword.substring(c + 1));
    }

    /** Credentials from {@code $DOCKER_CONFIG/config.json} or {@code ~/.docker/config.json}; anonymous if none. */
    static Credentials dockerConfig() {
        String dir = System.getenv("DOCKER_CONFIG");
        Path p = dir != null ? Path.of(dir, "config.json") : Path.of(System.getProperty("user.home"), ".docker", "config.json");
        return Files.isRegularFile(p) ? dockerConfig(p) : anonymous();
    }

    /** The {@code auths} of a docker config file: {@code auth} (base64 user:password), or username/password, or identitytoken. */
    static Credentials dockerConfig(Path file) {
        Map<String, Secret> byHost = new LinkedHashMap<>();
        try {
            Map<String, Object> root = Json.parseObject(Files.readAllBytes(file));
            Map<String, Object> auths = Json.obj(root, "auths");
            if (auths != null) {
                for (var e : auths.entrySet()) {
                    if (!(e.getValue() instanceof Map<?, ?> raw)) continue;
                    @SuppressWarnings("unchecked")
                    Map<String, Object> a = (Map<String, Object>) raw;
                    Secret s = null;
                    String auth = Json.str(a, "auth");
                    if (auth != null && !auth.isEmpty()) {
                        String decoded = new String(Base64.getDecoder().decode(auth), StandardCharsets.UTF_8);
                        int c = decoded.indexOf(':');
                        if (c > 0) s = new Secret(decoded.substring(0, c), decoded.substring(c + 1));
                    } else if (Json.str(a, "username") != null) {
                        s = new Secret(Json.str(a, "username"), Json.str(a, "password"));
                    }
                    if (Json.str(a, "identitytoken") != null && !Json.str(a, "identitytoken").isEmpty()) {
                        s = new Secret("", Json.str(a, "identitytoken"));
                    }
                    if (s != null) byHost.put(hostOf(e.getKey()), s);
                }
            }
        } catch (IOException | IllegalArgumentException e) {
            throw new IllegalArgumentException("reading " + file + ": " + e.getMessage(), e);
        }
        return host -> {
            Secret s = byHost.get(host);
            if (s == null && (host.equals("registry-1.docker.io") || host.equals("docker.io"))) {
                s = byHost.getOrDefault("index.docker.io", byHost.get("docker.io"));
            }
            return s;
        };
    }

    /** The host of an auths key: {@code https://index.docker.io/v1/} → {@code index.docker.io}. */
    private static String hostOf(String key) {
        String k = key;
        int scheme = k.indexOf("://");
        if (scheme >= 0) k = k.substring(scheme + 3);
        int slash = k.indexOf('/');
        return slash >= 0 ? k.substring(0, slash) : k;
    }
}
