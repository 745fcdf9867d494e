package io.jcontainerd.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.Empty;
import com.google.protobuf.Timestamp;
import io.jcontainerd.api.events.TaskExit;
import io.jcontainerd.api.services.events.ttrpc.v1.Envelope;
import io.jcontainerd.api.services.events.ttrpc.v1.ForwardRequest;
import io.jcontainerd.api.services.events.v1.EventsGrpc;
import io.jcontainerd.api.services.events.v1.SubscribeRequest;
import io.jcontainerd.testing.Ctr;
import io.jcontainerd.testing.DaemonProcess;
import io.jcontainerd.ttrpc.TtrpcClient;
import java.net.ServerSocket;
import java.net.StandardProtocolFamily;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The daemon's other listeners (debug, metrics, ttrpc) and its config subcommands. */
class ListenersAndConfigTest {

    static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    static String unixGet(Path socket, String path) throws Exception {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            ch.write(ByteBuffer.wrap(("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.US_ASCII)));
            return new String(readAll(ch), StandardCharsets.UTF_8);
        }
    }

    static byte[] readAll(SocketChannel ch) throws Exception {
        var out = new java.io.ByteArrayOutputStream();
        ByteBuffer buf = ByteBuffer.allocate(8192);
        while (ch.read(buf) > 0) {
            out.write(buf.array(), 0, buf.position());
            buf.clear();
        }
        return out.toByteArray();
    }

    @Test
    void debugAndMetricsEndpointsServe() throws Exception {
        int port = freePort();
        Path dbg = Files.createTempDirectory(Path.of("/tmp"), "jcdd").resolve("debug.sock");
        try (DaemonProcess d = DaemonProcess.start("""
                version = 2
                [debug]
                  address = "%s"
                [metrics]
                  address = "127.0.0.1:%d"
                  grpc_histogram = true
                """.formatted(dbg, port))) {
            Ctr.run(d.address(), "namespaces", "ls").assertOk();

            String threads = unixGet(dbg, "/debug/threads");
            assertThat(threads).startsWith("HTTP/1.1 200").contains("main");
            assertThat(unixGet(dbg, "/debug/config")).contains("[grpc]").contains("address = \"" + d.address() + "\"");
            assertThat(unixGet(dbg, "/debug/heap")).startsWith("HTTP/1.1 200");

            HttpResponse<String> metrics = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(metrics.statusCode()).isEqualTo(200);
            assertThat(metrics.body())
                    .containsPattern("grpc_server_handled_total\\{grpc_code=\"OK\",grpc_method=\"List\",grpc_service=\"containerd.services.namespaces.v1.Namespaces\",grpc_type=\"unary\"} [1-9]")
                    .contains("grpc_server_handling_seconds_bucket")
                    .contains("jcontainerd_plugin_init_seconds{id=\"sqlite\",status=\"ok\",type=\"io.containerd.metadata.v1\"}")
                    .contains("jvm_memory_used_bytes");
        } finally {
            DaemonProcess.Cleanup.deleteTree(dbg.getParent());
        }
    }

    @Test
    void shimEventsForwardedOverTtrpcReachSubscribers() throws Exception {
        try (DaemonProcess d = DaemonProcess.start()) {
            Path ttrpcSocket = Path.of(d.address() + ".ttrpc");
            assertThat(ttrpcSocket).exists();
            var events = EventsGrpc.newBlockingStub(d.channel()).withDeadlineAfter(20, TimeUnit.SECONDS)
                    .subscribe(SubscribeRequest.newBuilder().addFilters("topic==\"/tasks/exit\"").build());
            TaskExit exit = TaskExit.newBuilder().setContainerId("c1").setId("c1").setPid(42).setExitStatus(3).build();
            Instant now = Instant.now();
            ForwardRequest fwd = ForwardRequest.newBuilder().setEnvelope(Envelope.newBuilder()
                    .setTimestamp(Timestamp.newBuilder().setSeconds(now.getEpochSecond()).setNanos(now.getNano()))
                    .setNamespace("default").setTopic("/tasks/exit")
                    .setEvent(Any.newBuilder().setTypeUrl("containerd.events.TaskExit").setValue(exit.toByteString()))).build();
            try (TtrpcClient client = TtrpcClient.connect(ttrpcSocket)) {
                Thread.ofVirtual().start(() -> {
                    // the subscription is registered asynchronously: forward until it is seen
                    for (int i = 0; i < 100; i++) {
                        try {
                            client.call("containerd.services.events.ttrpc.v1.Events", "Forward", fwd, Empty.parser(),
                                    Map.of("containerd-namespace-ttrpc", "default"), Duration.ofSeconds(5));
                            Thread.sleep(100);
                        } catch (Exception e) {
                            return;
                        }
                    }
                });
                var env = events.next();
                assertThat(env.getTopic()).isEqualTo("/tasks/exit");
                assertThat(TaskExit.parseFrom(env.getEvent().getValue()).getExitStatus()).isEqualTo(3);
            }
        }
    }

    @Test
    void configDefaultAndDump() throws Exception {
        List<String> base = List.of(DaemonProcess.JAVA, "-cp", System.getProperty("java.class.path"), "io.jcontainerd.cmd.Main");
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "jcdc");
        try {
            var def = BootFailureTest.runToExit(concat(base, List.of("config", "default")));
            assertThat(def.code()).isZero();
            assertThat(def.output()).contains("version = 2", "root = \"/var/lib/jcontainerd\"", "state = \"/run/jcontainerd\"",
                    "[grpc]", "address = \"/run/jcontainerd/jcontainerd.sock\"", "max_recv_message_size = 16777216",
                    "[plugins.\"io.containerd.metadata.v1.sqlite\"]", "content_sharing_policy = \"shared\"");

            Path cfg = dir.resolve("c.toml");
            Files.writeString(cfg, """
                    version = 2
                    root = "/srv/jcd"
                    bogus_key = 1
                    [plugins."io.containerd.metadata.v1.sqlite"]
                      content_sharing_policy = "isolated"
                    """);
            var dump = BootFailureTest.runToExit(concat(base, List.of("--config", cfg.toString(), "--state", "/run/other", "config", "dump")));
            assertThat(dump.code()).isZero();
            assertThat(dump.output()).contains("root = \"/srv/jcd\"", "state = \"/run/other\"", "content_sharing_policy = \"isolated\"");
        } finally {
            DaemonProcess.Cleanup.deleteTree(dir);
        }
    }

    static List<String> concat(List<String> a, List<String> b) {
        var out = new java.util.ArrayList<>(a);
        out.addAll(b);
        return out;
    }

    @Test
    void unknownConfigKeysAreWarnedNotFatal() throws Exception {
        try (DaemonProcess d = DaemonProcess.start("version = 2\nno_such_option = true\n[grpc]\n  nope = 1\n")) {
            Ctr.run(d.address(), "version").assertOk();
            assertThat(d.logText()).contains("no_such_option").contains("grpc.nope");
        }
    }
}
