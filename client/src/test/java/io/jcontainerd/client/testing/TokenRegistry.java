package io.jcontainerd.client.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.jcontainerd.testing.DaemonProcess;
import io.jcontainerd.testing.Registry;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Debian's docker-registry with token authentication ({@code auth.token}), and the token server it sends
 * clients to: a JDK HTTP server issuing RS256 JWTs signed by a throwaway key whose self-signed certificate
 * is the registry's {@code rootcertbundle} (the certificate travels in the token's {@code x5c} header).
 * Anyone may pull; one user may also push; a wrong password gets 401 from the token server.
 */
public final class TokenRegistry implements AutoCloseable {
    public static final String SERVICE = "registry.jcontainerd.test";
    static final String ISSUER = "jcontainerd-test-token-issuer";

    /** One request the token server answered: who asked (null: anonymous) and for which scopes. */
    public record TokenRequest(String account, List<String> scopes, int status) {}

    private final Path dir;
    private final String user;
    private final String password;
    private final PrivateKey key;
    private final String x5c;
    private final HttpServer tokens;
    private final List<TokenRequest> requests = new CopyOnWriteArrayList<>();
    private Registry registry;

    private TokenRegistry(Path dir, String user, String password, PrivateKey key, String x5c) throws IOException {
        this.dir = dir;
        this.user = user;
        this.password = password;
        this.key = key;
        this.x5c = x5c;
        this.tokens = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        tokens.createContext("/token", this::token);
        tokens.start();
    }

    public static TokenRegistry start(String user, String password) throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("jcd-tokenreg");
        TokenRegistry r = null;
        try {
            Path ks = dir.resolve("signer.p12");
            keytool("-genkeypair", "-alias", "signer", "-keyalg", "RSA", "-keysize", "2048", "-validity", "2",
                    "-dname", "CN=" + ISSUER, "-storetype", "PKCS12", "-keystore", ks.toString(), "-storepass", "changeit");
            keytool("-exportcert", "-rfc", "-alias", "signer", "-keystore", ks.toString(), "-storepass", "changeit",
                    "-file", dir.resolve("signer.pem").toString());
            KeyStore store = KeyStore.getInstance("PKCS12");
            try (InputStream in = new FileInputStream(ks.toFile())) {
                store.load(in, "changeit".toCharArray());
            }
            PrivateKey key = (PrivateKey) store.getKey("signer", "changeit".toCharArray());
            Certificate cert = store.getCertificate("signer");
            r = new TokenRegistry(dir, user, password, key, Base64.getEncoder().encodeToString(cert.getEncoded()));
            r.startRegistry();
            return r;
        } catch (Exception e) {
            if (r != null) r.close();
            else DaemonProcess.Cleanup.deleteTree(dir);
            throw e instanceof IOException io ? io : new IOException(e);
        }
    }

    private static void keytool(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "keytool").toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) throw new IOException("keytool " + args[0] + " failed: " + out);
    }

    private void startRegistry() throws IOException, InterruptedException {
        registry = Registry.start(dir, """
                auth:
                  token:
                    realm: http://127.0.0.1:%d/token
                    service: %s
                    issuer: %s
                    rootcertbundle: %s
                """.formatted(tokens.getAddress().getPort(), SERVICE, ISSUER, dir.resolve("signer.pem")));
    }

    public String host() {
        return registry.host();
    }

    /** The token requests answered so far, oldest first. */
    public List<TokenRequest> requests() {
        return List.copyOf(requests);
    }

    public String log() throws IOException {
        return registry.log();
    }

    // GET /token?service=...&scope=repository:name:pull,push (scope repeated), Basic credentials optional
    private void token(HttpExchange ex) throws IOException {
        try (ex) {
            String query = ex.getRequestURI().getRawQuery();
            List<String> scopes = new ArrayList<>();
            String service = null;
            for (String kv : query == null ? new String[0] : query.split("&")) {
                int eq = kv.indexOf('=');
                String k = eq < 0 ? kv : kv.substring(0, eq);
                String v = eq < 0 ? "" : URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8);
                if (k.equals("scope")) scopes.addAll(List.of(v.split(" ")));
                if (k.equals("service")) service = v;
            }
            String account = null;
            String auth = ex.getRequestHeaders().getFirst("Authorization");
            if (auth != null && auth.regionMatches(true, 0, "Basic ", 0, 6)) {
                String pair = new String(Base64.getDecoder().decode(auth.substring(6).trim()), StandardCharsets.UTF_8);
                if (!pair.equals(user + ":" + password)) {
                    reply(ex, 401, "{\"details\":\"incorrect username or password\"}", null, scopes);
                    return;
                }
                account = user;
            }
            if (!SERVICE.equals(service)) {
                reply(ex, 400, "{\"details\":\"unknown service\"}", account, scopes);
                return;
            }
            List<String> access = new ArrayList<>();
            for (String scope : scopes) {
                // repository:<name>:<actions>; the name may not hold a colon, the actions never do
                String[] parts = scope.split(":");
                if (parts.length != 3 || !parts[0].equals("repository")) continue;
                List<String> granted = new ArrayList<>();
                for (String action : parts[2].split(",")) {
                    if (action.equals("pull") || (account != null && action.equals("push"))) granted.add(action);
                }
                access.add("{\"type\":\"repository\",\"name\":\"" + parts[1] + "\",\"actions\":["
                        + String.join(",", granted.stream().map(a -> "\"" + a + "\"").toList()) + "]}");
            }
            long now = Instant.now().getEpochSecond();
            String claims = "{\"iss\":\"" + ISSUER + "\",\"sub\":\"" + (account == null ? "" : account) + "\",\"aud\":\"" + SERVICE
                    + "\",\"exp\":" + (now + 300) + ",\"nbf\":" + (now - 10) + ",\"iat\":" + now + ",\"jti\":\"" + UUID.randomUUID()
                    + "\",\"access\":[" + String.join(",", access) + "]}";
            String jwt = sign("{\"alg\":\"RS256\",\"typ\":\"JWT\",\"x5c\":[\"" + x5c + "\"]}", claims);
            reply(ex, 200, "{\"token\":\"" + jwt + "\",\"expires_in\":300,\"issued_at\":\"" + Instant.ofEpochSecond(now) + "\"}",
                    account, scopes);
        }
    }

    private void reply(HttpExchange ex, int status, String body, String account, List<String> scopes) throws IOException {
        requests.add(new TokenRequest(account, List.copyOf(scopes), status));
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().put("Content-Type", List.of("application/json"));
        ex.sendResponseHeaders(status, b.length);
        ex.getResponseBody().write(b);
    }

    private String sign(String header, String claims) {
        Base64.Encoder url = Base64.getUrlEncoder().withoutPadding();
        String input = url.encodeToString(header.getBytes(StandardCharsets.UTF_8)) + "."
                + url.encodeToString(claims.getBytes(StandardCharsets.UTF_8));
        try {
            Signature s = Signature.getInstance("SHA256withRSA");
            s.initSign(key);
            s.update(input.getBytes(StandardCharsets.US_ASCII));
            return input + "." + url.encodeToString(s.sign());
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        tokens.stop(0);
        if (registry != null) registry.close(); // removes dir too
        else DaemonProcess.Cleanup.deleteTree(dir);
    }
}
