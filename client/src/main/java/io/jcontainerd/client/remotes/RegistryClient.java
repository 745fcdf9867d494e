package io.jcontainerd.client.remotes;

import io.grpc.Status;
import io.jcontainerd.client.ClientException;
import io.jcontainerd.client.Json;
import io.jcontainerd.client.images.Descriptor;
import io.jcontainerd.client.images.MediaTypes;
import io.jcontainerd.client.reference.Reference;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * The OCI distribution API for one repository, over java.net.http: resolve, fetch (verified, with
 * Range for resumes), and push (existence checks, cross-repository mount, monolithic or chunked
 * uploads, manifests). Hosts come from {@link HostsConfig}; authentication answers the registry's
 * {@code WWW-Authenticate} challenge (Basic, or a Bearer token from the realm); transient failures
 * (connection errors, 429, 5xx) are retried with exponential backoff.
 */
public final class RegistryClient {
    /** How to reach registries. */
    public record Options(Path hostsDir, boolean plainHttp, boolean skipVerify, Credentials credentials,
                          int maxAttempts, Duration backoff, Duration timeout) {
        public Options {
            credentials = credentials == null ? Credentials.anonymous() : credentials;
            maxAttempts = Math.max(1, maxAttempts);
            backoff = backoff == null ? Duration.ofMillis(200) : backoff;
            timeout = timeout == null ? Duration.ofSeconds(30) : timeout;
        }

        public static Options defaults() {
            return new Options(Path.of("/etc/containerd/certs.d"), false, false, Credentials.dockerConfig(), 4, null, null);
        }

        public Options withPlainHttp(boolean v) {
            return new Options(hostsDir, v, skipVerify, credentials, maxAttempts, backoff, timeout);
        }

        public Options withCredentials(Credentials c) {
            return new Options(hostsDir, plainHttp, skipVerify, c, maxAttempts, backoff, timeout);
        }

        public Options withHostsDir(Path dir) {
            return new Options(dir, plainHttp, skipVerify, credentials, maxAttempts, backoff, timeout);
        }

        public Options withSkipVerify(boolean v) {
            return new Options(hostsDir, plainHttp, v, credentials, maxAttempts, backoff, timeout);
        }
    }

    private static final String USER_AGENT = "jcontainerd-client/0.1";
    private static final int MANIFEST_LIMIT = 4 << 20;
    private static final Map<String, HttpClient> CLIENTS = new ConcurrentHashMap<>();

    private final Reference ref;
    private final Options options;
    private final List<RegistryHost> hosts;
    private final Auth auth;

    private RegistryClient(Reference ref, Options options) {
        this.ref = ref;
        this.options = options;
        this.hosts = HostsConfig.hosts(ref.domain(), options.hostsDir(), options.plainHttp(), options.skipVerify());
        this.auth = new Auth(options.credentials());
    }

    public static RegistryClient of(Reference ref, Options options) {
        return new RegistryClient(ref, options);
    }

    public Reference reference() {
        return ref;
    }

    public List<RegistryHost> hosts() {
        return hosts;
    }

    // ---------------------------------------------------------------- pull side

    /** The descriptor the reference's tag or digest names (HEAD first, GET when HEAD says too little). */
    public Descriptor resolve() {
        String object = ref.object();
        ClientException last = null;
        for (RegistryHost h : hosts(RegistryHost.Capability.RESOLVE)) {
            URI uri = uri(h, "/manifests/" + object);
            try {
                HttpResponse<InputStream> head = send(h, "HEAD", uri, Map.of("Accept", MediaTypes.ACCEPT_MANIFESTS), null, pullScope());
                head.body().close();
                if (head.statusCode() == 200) {
                    String digest = head.headers().firstValue("Docker-Content-Digest").orElse(null);
                    String type = head.headers().firstValue("Content-Type").orElse("");
                    long size = head.headers().firstValueAsLong("Content-Length").orElse(-1);
                    if (ref.digest() != null && digest != null && !digest.equals(ref.digest())) {
                        throw ClientException.failedPrecondition("%s: registry returned digest %s", ref, digest);
                    }
                    if (ref.digest() != null) digest = ref.digest();
                    if (digest != null && size >= 0 && knownManifestType(type)) return new Descriptor(type, digest, size);
                } else if (head.statusCode() != 404 && head.statusCode() != 405) {
                    throw httpError(head, uri, null);
                }
                // HEAD said not enough (or not found on this host): GET the manifest itself
                HttpResponse<InputStream> get = send(h, "GET", uri, Map.of("Accept", MediaTypes.ACCEPT_MANIFESTS), null, pullScope());
                if (get.statusCode() == 404) {
                    get.body().close();
                    last = ClientException.notFound("%s: not found", ref);
                    continue;
                }
                if (get.statusCode() != 200) throw httpError(get, uri, readSmall(get));
                byte[] body = readLimited(get.body(), MANIFEST_LIMIT);
                String digest = ref.digest() != null ? ref.digest() : get.headers().firstValue("Docker-Content-Digest")
                        .orElseGet(() -> Digests.sha256(body));
                Digests.verify(body, digest, -1);
                String type = get.headers().firstValue("Content-Type").orElse("");
                if (!knownManifestType(type)) type = sniffMediaType(body, type);
                return new Descriptor(type, digest, body.length);
            } catch (IOException e) {
                last = unavailable(uri, e);
            }
        }
        throw last != null ? last : ClientException.notFound("%s: no host can resolve it", ref);
    }

    /** The content of {@code d}, verified against its digest and size as it is read. */
    public InputStream fetch(Descriptor d) {
        return new Digests.VerifyingInputStream(fetch(d, 0), d.digest(), d.size());
    }

    /** The content of {@code d} from {@code offset} (a Range request); not verified (the caller hashes). */
    public InputStream fetch(Descriptor d, long offset) {
        boolean manifest = MediaTypes.isManifest(d.mediaType()) || MediaTypes.isIndex(d.mediaType());
        String path = (manifest ? "/manifests/" : "/blobs/") + d.digest();
        ClientException last = null;
        for (RegistryHost h : hosts(RegistryHost.Capability.PULL)) {
            URI uri = uri(h, path);
            try {
                Map<String, String> headers = new java.util.HashMap<>();
                headers.put("Accept", manifest ? d.mediaType() + ", */*" : "*/*");
                if (offset > 0) headers.put("Range", "bytes=" + offset + "-");
                HttpResponse<InputStream> r = send(h, "GET", uri, headers, null, pullScope());
                int sc = r.statusCode();
                if (sc == 404) {
                    r.body().close();
                    last = ClientException.notFound("%s: content %s not found", ref, d.digest());
                    continue;
                }
                if (sc == 200 && offset > 0) {
                    // no Range support: skip what we already have
                    InputStream in = r.body();
                    in.skipNBytes(offset);
                    return in;
                }
                if (sc == 200 || sc == 206) return r.body();
                throw httpError(r, uri, readSmall(r));
            } catch (IOException e) {
                last = unavailable(uri, e);
            }
        }
        throw last != null ? last : ClientException.notFound("%s: no host can serve pulls", ref);
    }

    /** A small blob (manifest, index, config) read whole and verified. */
    public byte[] fetchBytes(Descriptor d) {
        if (d.size() > MANIFEST_LIMIT) throw ClientException.invalidArgument("%s is too large (%d bytes)", d.digest(), d.size());
        try (InputStream in = fetch(d)) {
            return in.readAllBytes();
        } catch (IOException e) {
            if (e.getCause() instanceof ClientException c) throw c;
            throw new ClientException(Status.Code.UNAVAILABLE, "fetching " + d.digest() + ": " + e.getMessage(), e);
        }
    }

    // ---------------------------------------------------------------- push side

    /** True when the repository already has {@code d} (HEAD on the blob or manifest). */
    public boolean exists(Descriptor d) {
        boolean manifest = MediaTypes.isManifest(d.mediaType()) || MediaTypes.isIndex(d.mediaType());
        RegistryHost h = pushHost();
        URI uri = uri(h, (manifest ? "/manifests/" : "/blobs/") + d.digest());
        try {
            HttpResponse<InputStream> r = send(h, "HEAD", uri, manifest ? Map.of("Accept", d.mediaType()) : Map.of(), null, pushScope(null));
            r.body().close();
            if (r.statusCode() == 200) return true;
            if (r.statusCode() == 404) return false;
            throw httpError(r, uri, null);
        } catch (IOException e) {
            throw unavailable(uri, e);
        }
    }

    /** Supplies a fresh stream of a blob's bytes for each (re)try. */
    @FunctionalInterface
    public interface BlobSource {
        InputStream open() throws IOException;
    }

    /**
     * Uploads blob {@code d} unless present: first tries a cross-repository mount from
     * {@code mountFrom} (a repository path on the same registry, or null), then uploads it in one
     * PUT, or in PATCH chunks of {@code chunkSize} bytes when that is positive.
     */
    public void pushBlob(Descriptor d, BlobSource source, String mountFrom, int chunkSize) {
        if (exists(d)) return;
        RegistryHost h = pushHost();
        URI start = uri(h, "/blobs/uploads/");
        try {
            HttpResponse<InputStream> r;
            if (mountFrom != null && !mountFrom.equals(ref.path())) {
                URI mount = URI.create(start + "?mount=" + enc(d.digest()) + "&from=" + enc(mountFrom));
                r = send(h, "POST", mount, Map.of(), HttpRequest.BodyPublishers.noBody(), pushScope(mountFrom));
                r.body().close();
                if (r.statusCode() == 201) return; // mounted
            } else {
                r = send(h, "POST", start, Map.of(), HttpRequest.BodyPublishers.noBody(), pushScope(null));
                r.body().close();
            }
            if (r.statusCode() != 202) throw httpError(r, start, null);
            URI location = location(r, start);
            if (chunkSize <= 0) {
                HttpResponse<InputStream> put = send(h, "PUT", withDigest(location, d.digest()),
                        Map.of("Content-Type", "application/octet-stream"),
                        HttpRequest.BodyPublishers.fromPublisher(HttpRequest.BodyPublishers.ofInputStream(() -> open(source)), d.size()),
                        pushScope(null));
                byte[] msg = readSmall(put);
                if (put.statusCode() != 201) throw httpError(put, location, msg);
                return;
            }
            try (InputStream in = source.open()) {
                long offset = 0;
                byte[] buf = new byte[chunkSize];
                while (offset < d.size()) {
                    int n = in.readNBytes(buf, 0, (int) Math.min(chunkSize, d.size() - offset));
                    if (n <= 0) throw ClientException.failedPrecondition("blob %s ended at %d of %d bytes", d.digest(), offset, d.size());
                    byte[] chunk = n == buf.length ? buf.clone() : java.util.Arrays.copyOf(buf, n);
                    HttpResponse<InputStream> patch = send(h, "PATCH", location, Map.of("Content-Type", "application/octet-stream",
                            "Content-Range", offset + "-" + (offset + n - 1)), HttpRequest.BodyPublishers.ofByteArray(chunk), pushScope(null));
                    byte[] msg = readSmall(patch);
                    if (patch.statusCode() != 202) throw httpError(patch, location, msg);
                    location = location(patch, location);
                    offset += n;
                }
            }
            HttpResponse<InputStream> put = send(h, "PUT", withDigest(location, d.digest()), Map.of(),
                    HttpRequest.BodyPublishers.noBody(), pushScope(null));
            byte[] msg = readSmall(put);
            if (put.statusCode() != 201) throw httpError(put, location, msg);
        } catch (IOException e) {
            throw unavailable(start, e);
        }
    }

    /** PUTs a manifest or index under {@code tagOrDigest}. */
    public void pushManifest(String tagOrDigest, Descriptor d, byte[] body) {
        RegistryHost h = pushHost();
        URI uri = uri(h, "/manifests/" + tagOrDigest);
        try {
            HttpResponse<InputStream> r = send(h, "PUT", uri, Map.of("Content-Type", d.mediaType()),
                    HttpRequest.BodyPublishers.ofByteArray(body), pushScope(null));
            byte[] msg = readSmall(r);
            if (r.statusCode() != 201 && r.statusCode() != 200) throw httpError(r, uri, msg);
        } catch (IOException e) {
            throw unavailable(uri, e);
        }
    }

    // ---------------------------------------------------------------- plumbing

    private List<RegistryHost> hosts(RegistryHost.Capability c) {
        return hosts.stream().filter(h -> h.can(c)).toList();
    }

    private RegistryHost pushHost() {
        List<RegistryHost> hs = hosts(RegistryHost.Capability.PUSH);
        if (hs.isEmpty()) throw ClientException.failedPrecondition("%s: no host is configured for push", ref.domain());
        return hs.getFirst();
    }

    private String pullScope() {
        return "repository:" + ref.path() + ":pull";
    }

    private String pushScope(String mountFrom) {
        String s = "repository:" + ref.path() + ":pull,push";
        return mountFrom == null ? s : s + " repository:" + mountFrom + ":pull";
    }

    private URI uri(RegistryHost h, String suffix) {
        return URI.create(h.base() + "/" + ref.path() + suffix);
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static URI withDigest(URI location, String digest) {
        String s = location.toString();
        return URI.create(s + (s.contains("?") ? "&" : "?") + "digest=" + enc(digest));
    }

    private static URI location(HttpResponse<?> r, URI base) {
        String loc = r.headers().firstValue("Location").orElseThrow(() ->
                new ClientException(Status.Code.UNKNOWN, "registry gave no upload location for " + base));
        return base.resolve(loc);
    }

    private static InputStream open(BlobSource s) {
        try {
            return s.open();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static boolean knownManifestType(String t) {
        return MediaTypes.isManifest(t) || MediaTypes.isIndex(t) || MediaTypes.DOCKER_SCHEMA1_MANIFEST.equals(t);
    }

    /** The media type of a manifest whose Content-Type did not say: its mediaType member, or its shape. */
    static String sniffMediaType(byte[] body, String contentType) {
        try {
            Map<String, Object> m = Json.parseObject(body);
            String mt = Json.str(m, "mediaType");
            if (mt != null && !mt.isEmpty()) return mt;
            if (m.containsKey("manifests")) return MediaTypes.OCI_INDEX;
            if (m.containsKey("config") && m.containsKey("layers")) return MediaTypes.OCI_MANIFEST;
            if (m.containsKey("fsLayers")) return MediaTypes.DOCKER_SCHEMA1_MANIFEST;
        } catch (IllegalArgumentException notJson) {
            // fall through to the header's type
        }
        return contentType;
    }

    private ClientException unavailable(URI uri, IOException e) {
        if (e.getCause() instanceof ClientException c) return c;
        return new ClientException(Status.Code.UNAVAILABLE, "failed to do request to %s: %s".formatted(uri, describe(e)), e);
    }

    /** The first message in the cause chain (connect errors often have none at the top). */
    private static String describe(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t.getMessage() != null && !t.getMessage().isBlank()) return t.getMessage();
        }
        return e instanceof java.net.ConnectException ? "connection refused" : e.getClass().getSimpleName();
    }

    static ClientException httpError(HttpResponse<?> r, URI uri, byte[] body) {
        String detail = "";
        if (body != null && body.length > 0) {
            try {
                Map<String, Object> m = Json.parseObject(body);
                List<String> parts = new ArrayList<>();
                for (Object o : Json.arr(m, "errors")) {
                    if (o instanceof Map<?, ?> e) parts.add(e.get("code") + ": " + e.get("message"));
                }
                detail = parts.isEmpty() ? "" : " (" + String.join("; ", parts) + ")";
            } catch (IllegalArgumentException notJson) {
                detail = "";
            }
        }
        int sc = r.statusCode();
        Status.Code code = switch (sc) {
            case 400 -> Status.Code.INVALID_ARGUMENT;
            case 401 -> Status.Code.UNAUTHENTICATED;
            case 403 -> Status.Code.PERMISSION_DENIED;
            case 404 -> Status.Code.NOT_FOUND;
            case 409 -> Status.Code.ALREADY_EXISTS;
            case 412 -> Status.Code.FAILED_PRECONDITION;
            case 416 -> Status.Code.OUT_OF_RANGE;
            case 429 -> Status.Code.RESOURCE_EXHAUSTED;
            case 501 -> Status.Code.UNIMPLEMENTED;
            case 502, 503, 504 -> Status.Code.UNAVAILABLE;
            default -> Status.Code.UNKNOWN;
        };
        String what = switch (sc) {
            case 401 -> "unauthorized: authentication required";
            case 403 -> "forbidden";
            case 404 -> "not found";
            default -> "unexpected status " + sc;
        };
        return new ClientException(code, r.request().method() + " " + uri + ": " + what + detail);
    }

    private static byte[] readSmall(HttpResponse<InputStream> r) throws IOException {
        try (InputStream in = r.body()) {
            return readLimited(in, 64 << 10);
        }
    }

    private static byte[] readLimited(InputStream in, int limit) throws IOException {
        try (in) {
            byte[] b = in.readNBytes(limit + 1);
            if (b.length > limit) throw new IOException("response larger than " + limit + " bytes");
            return b;
        }
    }

    /**
     * Sends one request: authorization from earlier challenges, one re-send after a 401 challenge,
     * manual redirects (credentials stay on the registry host), retries with backoff for
     * connection failures, 429 and 5xx.
     */
    private HttpResponse<InputStream> send(RegistryHost h, String method, URI uri, Map<String, String> headers,
                                           HttpRequest.BodyPublisher body, String scope) throws IOException {
        HttpClient http = httpClient(h);
        boolean challenged = false;
        int attempt = 0;
        URI target = uri;
        int redirects = 0;
        while (true) {
            HttpRequest.Builder b = HttpRequest.newBuilder(target).timeout(options.timeout()).header("User-Agent", USER_AGENT)
                    .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : body);
            headers.forEach(b::header);
            h.headers().forEach((k, vs) -> vs.forEach(v -> b.header(k, v)));
            boolean sameHost = target.getAuthority().equals(h.host());
            if (sameHost) {
                String a = auth.authorization(http, h.host(), scope);
                if (a != null) b.header("Authorization", a);
            }
            HttpResponse<InputStream> r;
            try {
                r = http.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            } catch (IOException e) {
                if (++attempt >= options.maxAttempts()) throw e;
                backoff(attempt);
                continue;
            }
            int sc = r.statusCode();
            if (sc == 401 && sameHost && !challenged) {
                String challenge = r.headers().firstValue("WWW-Authenticate").orElse(null);
                r.body().close();
                if (challenge != null && auth.challenge(h.host(), challenge)) {
                    challenged = true;
                    continue;
                }
                return replay(r);
            }
            if ((sc == 429 || sc == 500 || sc == 502 || sc == 503 || sc == 504) && ++attempt < options.maxAttempts()) {
                r.body().close();
                backoff(attempt);
                continue;
            }
            if ((sc == 301 || sc == 302 || sc == 303 || sc == 307 || sc == 308) && r.headers().firstValue("Location").isPresent()
                    && redirects++ < 5) {
                r.body().close();
                target = target.resolve(r.headers().firstValue("Location").get());
                if (sc == 303) method = "GET";
                continue;
            }
            return r;
        }
    }

    private static HttpResponse<InputStream> replay(HttpResponse<InputStream> r) {
        return new HttpResponse<>() {
            public int statusCode() { return r.statusCode(); }
            public HttpRequest request() { return r.request(); }
            public java.util.Optional<HttpResponse<InputStream>> previousResponse() { return r.previousResponse(); }
            public java.net.http.HttpHeaders headers() { return r.headers(); }
            public InputStream body() { return new ByteArrayInputStream(new byte[0]); }
            public java.util.Optional<javax.net.ssl.SSLSession> sslSession() { return r.sslSession(); }
            public URI uri() { return r.uri(); }
            public HttpClient.Version version() { return r.version(); }
        };
    }

    private void backoff(int attempt) throws IOException {
        try {
            Thread.sleep(options.backoff().toMillis() << Math.min(attempt - 1, 6));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    private static HttpClient httpClient(RegistryHost h) {
        String key = h.skipVerify() + "|" + h.caFiles();
        return CLIENTS.computeIfAbsent(key, k -> {
            HttpClient.Builder b = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(30)).followRedirects(HttpClient.Redirect.NEVER);
            if (h.skipVerify() || !h.caFiles().isEmpty()) b.sslContext(sslContext(h));
            return b.build();
        });
    }

    private static SSLContext sslContext(RegistryHost h) {
        try {
            TrustManager tm;
            if (h.skipVerify()) {
                tm = new TrustAll();
            } else {
                // the system's roots plus the configured CA files
                KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
                ks.load(null, null);
                TrustManagerFactory sys = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                sys.init((KeyStore) null);
                int n = 0;
                for (TrustManager t : sys.getTrustManagers()) {
                    if (t instanceof X509TrustManager x) for (X509Certificate c : x.getAcceptedIssuers()) ks.setCertificateEntry("sys" + n++, c);
                }
                CertificateFactory cf = CertificateFactory.getInstance("X.509");
                for (Path ca : h.caFiles()) {
                    try (InputStream in = Files.newInputStream(ca)) {
                        for (var c : cf.generateCertificates(in)) ks.setCertificateEntry("ca" + n++, c);
                    }
                }
                TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                tmf.init(ks);
                tm = tmf.getTrustManagers()[0];
            }
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, new TrustManager[] {tm}, null);
            return ctx;
        } catch (Exception e) {
            throw ClientException.invalidArgument("TLS configuration for %s: %s", h.host(), e.getMessage());
        }
    }

    /** skip_verify: any certificate, any host name (the extended manager is where host names are checked). */
    private static final class TrustAll extends X509ExtendedTrustManager {
        public void checkClientTrusted(X509Certificate[] c, String a, java.net.Socket s) {}
        public void checkServerTrusted(X509Certificate[] c, String a, java.net.Socket s) {}
        public void checkClientTrusted(X509Certificate[] c, String a, SSLEngine e) {}
        public void checkServerTrusted(X509Certificate[] c, String a, SSLEngine e) {}
        public void checkClientTrusted(X509Certificate[] c, String a) {}
        public void checkServerTrusted(X509Certificate[] c, String a) {}
        public X509Certificate[] getAcceptedIssuers() { return new X509Certificate[0]; }
    }

    /** Challenges by host, and bearer tokens by host and scope. */
    private static final class Auth {
        private final Credentials credentials;
        private final Map<String, Challenge> challenges = new ConcurrentHashMap<>();
        private final Map<String, String> tokens = new ConcurrentHashMap<>();

        Auth(Credentials credentials) {
            this.credentials = credentials;
        }

        record Challenge(String scheme, Map<String, String> params) {}

        /** Records a challenge; false when it is one we cannot answer. */
        boolean challenge(String host, String header) {
            Challenge c = parse(header);
            if (c == null) return false;
            if (c.scheme.equals("basic") && credentials.lookup(host) == null) return false;
            challenges.put(host, c);
            tokens.keySet().removeIf(k -> k.startsWith(host + "|"));
            return true;
        }

        String authorization(HttpClient http, String host, String scope) throws IOException {
            Challenge c = challenges.get(host);
            if (c == null) return null;
            Credentials.Secret s = credentials.lookup(host);
            if (c.scheme.equals("basic")) {
                return s == null ? null : basic(s);
            }
            String key = host + "|" + scope;
            String t = tokens.get(key);
            if (t == null) {
                t = fetchToken(http, c, scope, s);
                tokens.put(key, t);
            }
            return "Bearer " + t;
        }

        private static String basic(Credentials.Secret s) {
            return "Basic " + Base64.getEncoder().encodeToString((s.username() + ":" + s.password()).getBytes(StandardCharsets.UTF_8));
        }

        private static String fetchToken(HttpClient http, Challenge c, String scope, Credentials.Secret s) throws IOException {
            String realm = c.params.get("realm");
            if (realm == null) throw new IOException("bearer challenge without realm");
            StringBuilder q = new StringBuilder(realm).append(realm.contains("?") ? "&" : "?");
            if (c.params.containsKey("service")) q.append("service=").append(enc(c.params.get("service"))).append('&');
            for (String sc : scope.split(" ")) q.append("scope=").append(enc(sc)).append('&');
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(q.substring(0, q.length() - 1)))
                    .header("User-Agent", USER_AGENT).timeout(Duration.ofSeconds(30)).GET();
            if (s != null && !s.username().isEmpty()) b.header("Authorization", basic(s));
            HttpResponse<byte[]> r;
            try {
                r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
            if (r.statusCode() != 200) {
                throw new IOException("token", new ClientException(r.statusCode() == 401 ? Status.Code.UNAUTHENTICATED : Status.Code.PERMISSION_DENIED,
                        "fetching token from " + realm + ": status " + r.statusCode()));
            }
            Map<String, Object> m = Json.parseObject(r.body());
            String t = Json.str(m, "token");
            if (t == null || t.isEmpty()) t = Json.str(m, "access_token");
            if (t == null || t.isEmpty()) throw new IOException("token server " + realm + " returned no token");
            return t;
        }

        /** {@code Bearer realm="...",service="...",scope="..."} or {@code Basic realm="..."}. */
        static Challenge parse(String header) {
            int sp = header.indexOf(' ');
            String scheme = (sp < 0 ? header : header.substring(0, sp)).toLowerCase(java.util.Locale.ROOT);
            if (!Set.of("basic", "bearer").contains(scheme)) return null;
            Map<String, String> params = new java.util.LinkedHashMap<>();
            String rest = sp < 0 ? "" : header.substring(sp + 1);
            int i = 0;
            while (i < rest.length()) {
                while (i < rest.length() && (rest.charAt(i) == ' ' || rest.charAt(i) == ',')) i++;
                int eq = rest.indexOf('=', i);
                if (eq < 0) break;
                String k = rest.substring(i, eq).trim().toLowerCase(java.util.Locale.ROOT);
                i = eq + 1;
                String v;
                if (i < rest.length() && rest.charAt(i) == '"') {
                    StringBuilder sb = new StringBuilder();
                    i++;
                    while (i < rest.length() && rest.charAt(i) != '"') {
                        if (rest.charAt(i) == '\\' && i + 1 < rest.length()) i++;
                        sb.append(rest.charAt(i++));
                    }
                    i++;
                    v = sb.toString();
                } else {
                    int end = rest.indexOf(',', i);
                    if (end < 0) end = rest.length();
                    v = rest.substring(i, end).trim();
                    i = end;
                }
                params.put(k, v);
            }
            return new Challenge(scheme, params);
        }
    }
}
