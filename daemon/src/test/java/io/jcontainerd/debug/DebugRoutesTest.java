package io.jcontainerd.debug;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class DebugRoutesTest {

    private static HttpEndpoint endpoint;
    private static HttpClient client;

    @BeforeAll
    static void start() throws Exception {
        endpoint = HttpEndpoint.listen("127.0.0.1:0", 0, 0, DebugRoutes.routes(() -> "version = 2\nroot = \"/var/lib/x\"\n"));
        client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    }

    @AfterAll
    static void stop() throws Exception {
        client.close();
        endpoint.close();
    }

    private static HttpResponse<String> get(String path) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + endpoint.port() + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void threadsIncludesVirtualThreads() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        Thread parked = Thread.ofVirtual().name("observe-parked-vthread").start(() -> {
            try {
                release.await();
            } catch (InterruptedException ignored) {
                // exits either way
            }
        });
        try {
            HttpResponse<String> r = get("/debug/threads");
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).contains("observe-parked-vthread", "CountDownLatch.await", Thread.currentThread().getName());
        } finally {
            release.countDown();
            parked.join();
        }
    }

    @Test
    void platformFallbackHasFullStacks() {
        String dump = ThreadDump.platformThreads();
        assertThat(dump).contains("\"" + Thread.currentThread().getName() + "\"", "platformFallbackHasFullStacks");
    }

    @Test
    void heapReportsPoolsAndCollectors() throws Exception {
        HttpResponse<String> r = get("/debug/heap");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).contains("heap:", "non-heap:", "memory pools:", "garbage collectors:", "count=");
    }

    @Test
    void configIsWhatTheServerRenders() throws Exception {
        assertThat(get("/debug/config").body()).isEqualTo("version = 2\nroot = \"/var/lib/x\"\n");
    }

    @Test
    void varsIsJson() throws Exception {
        HttpResponse<String> r = get("/debug/vars");
        assertThat(r.headers().firstValue("content-type")).hasValue(DebugRoutes.JSON);
        assertThat(r.body()).startsWith("{\n").endsWith("\n}\n")
                .contains("\"pid\": " + ProcessHandle.current().pid() + ",", "\"uptime_seconds\": ", "\"threads\": ");
        assertThat(get("/debug/").body()).contains("/debug/threads", "/debug/vars");
    }

    @Test
    void jsonQuoting() {
        assertThat(JvmInfo.quote("a\"b\\c\n\u0001")).isEqualTo("\"a\\\"b\\\\c\\n\\u0001\"");
    }
}
