package io.jcontainerd.it;

import static io.jcontainerd.testing.DaemonProcess.inNamespace;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import com.google.protobuf.Empty;
import com.google.protobuf.FieldMask;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.jcontainerd.api.events.NamespaceCreate;
import io.jcontainerd.api.grpc.health.v1.HealthCheckRequest;
import io.jcontainerd.api.grpc.health.v1.HealthCheckResponse;
import io.jcontainerd.api.grpc.health.v1.HealthGrpc;
import io.jcontainerd.api.services.events.v1.EventsGrpc;
import io.jcontainerd.api.services.events.v1.PublishRequest;
import io.jcontainerd.api.services.events.v1.SubscribeRequest;
import io.jcontainerd.api.services.introspection.v1.IntrospectionGrpc;
import io.jcontainerd.api.services.introspection.v1.PluginsRequest;
import io.jcontainerd.api.services.namespaces.v1.CreateNamespaceRequest;
import io.jcontainerd.api.services.namespaces.v1.DeleteNamespaceRequest;
import io.jcontainerd.api.services.namespaces.v1.GetNamespaceRequest;
import io.jcontainerd.api.services.namespaces.v1.ListNamespacesRequest;
import io.jcontainerd.api.services.namespaces.v1.Namespace;
import io.jcontainerd.api.services.namespaces.v1.NamespacesGrpc;
import io.jcontainerd.api.services.namespaces.v1.UpdateNamespaceRequest;
import io.jcontainerd.testing.DaemonProcess;
import java.nio.file.Files;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The core services over gRPC, as any containerd client sees them. */
class GrpcServicesTest {
    static DaemonProcess daemon;

    @BeforeAll
    static void start() throws Exception {
        daemon = DaemonProcess.start();
    }

    @AfterAll
    static void stop() {
        if (daemon != null) daemon.close();
    }

    static Status.Code codeOf(Runnable r) {
        try {
            r.run();
            return Status.Code.OK;
        } catch (StatusRuntimeException e) {
            return e.getStatus().getCode();
        }
    }

    @Test
    void introspectionServerReportsPersistentUuidPidAndPidNamespace() {
        var intro = IntrospectionGrpc.newBlockingStub(daemon.channel());
        var first = intro.server(Empty.getDefaultInstance());
        assertThat(first.getUuid()).hasSize(36);
        assertThat(first.getPid()).isEqualTo(daemon.process().pid());
        assertThat(first.getPidns()).isPositive();
        assertThat(intro.server(Empty.getDefaultInstance()).getUuid()).isEqualTo(first.getUuid());
    }

    @Test
    void introspectionFiltersAndBadFilters() {
        var intro = IntrospectionGrpc.newBlockingStub(daemon.channel());
        var grpc = intro.plugins(PluginsRequest.newBuilder().addFilters("type==io.containerd.grpc.v1").build());
        assertThat(grpc.getPluginsList()).isNotEmpty().allMatch(p -> p.getType().equals("io.containerd.grpc.v1"));
        var either = intro.plugins(PluginsRequest.newBuilder().addFilters("id==version").addFilters("id==events").build());
        assertThat(either.getPluginsList()).extracting(p -> p.getId()).containsExactlyInAnyOrder("version", "events");
        assertThatThrownBy(() -> intro.plugins(PluginsRequest.newBuilder().addFilters("id==\"unterminated").build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
    }

    @Test
    void healthIsServing() {
        var h = HealthGrpc.newBlockingStub(daemon.channel()).check(HealthCheckRequest.getDefaultInstance());
        assertThat(h.getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
    }

    @Test
    void namespaceErrorClasses() {
        var ns = NamespacesGrpc.newBlockingStub(daemon.channel());
        assertThat(codeOf(() -> ns.get(GetNamespaceRequest.newBuilder().setName("absent").build())))
                .isEqualTo(Status.Code.NOT_FOUND);
        assertThat(codeOf(() -> ns.create(create("-bad-", "k", "v")))).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(codeOf(() -> ns.create(create("a".repeat(77), "k", "v")))).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(codeOf(() -> ns.create(create("okname", "k".repeat(4000), "v".repeat(97))))).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(codeOf(() -> ns.list(ListNamespacesRequest.newBuilder().setFilter("name~=(").build())))
                .isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(codeOf(() -> ns.delete(DeleteNamespaceRequest.newBuilder().setName("absent").build())))
                .isEqualTo(Status.Code.NOT_FOUND);
    }

    @Test
    void namespaceUpdateWithFieldPaths() {
        var ns = NamespacesGrpc.newBlockingStub(daemon.channel());
        ns.create(CreateNamespaceRequest.newBuilder().setNamespace(Namespace.newBuilder().setName("upd")
                .putLabels("a", "1").putLabels("b", "2")).build());
        var r = ns.update(UpdateNamespaceRequest.newBuilder()
                .setNamespace(Namespace.newBuilder().setName("upd").putLabels("a", "9"))
                .setUpdateMask(FieldMask.newBuilder().addPaths("labels.a").addPaths("labels.b")).build());
        assertThat(r.getNamespace().getLabelsMap()).containsExactly(java.util.Map.entry("a", "9"));
        assertThat(codeOf(() -> ns.update(UpdateNamespaceRequest.newBuilder()
                .setNamespace(Namespace.newBuilder().setName("upd"))
                .setUpdateMask(FieldMask.newBuilder().addPaths("name")).build()))).isEqualTo(Status.Code.INVALID_ARGUMENT);
        var filtered = ns.list(ListNamespacesRequest.newBuilder().setFilter("labels.a==9").build());
        assertThat(filtered.getNamespacesList()).extracting(Namespace::getName).containsExactly("upd");
    }

    @Test
    void publishNeedsNamespaceAndValidTopic() {
        var ev = EventsGrpc.newBlockingStub(daemon.channel());
        Any event = Any.newBuilder().setTypeUrl("containerd.events.NamespaceCreate")
                .setValue(NamespaceCreate.newBuilder().setName("x").build().toByteString()).build();
        assertThat(codeOf(() -> ev.publish(PublishRequest.newBuilder().setTopic("/test/x").setEvent(event).build())))
                .isEqualTo(Status.Code.FAILED_PRECONDITION);
        assertThat(codeOf(() -> inNamespace(ev, "default").publish(PublishRequest.newBuilder().setTopic("no-slash").setEvent(event).build())))
                .isEqualTo(Status.Code.INVALID_ARGUMENT);
    }

    @Test
    void subscribeReceivesPublishedEventWithFilter() throws Exception {
        var it = EventsGrpc.newBlockingStub(daemon.channel()).withDeadlineAfter(20, TimeUnit.SECONDS)
                .subscribe(SubscribeRequest.newBuilder().addFilters("topic==\"/test/hello\"").build());
        var ev = inNamespace(EventsGrpc.newBlockingStub(daemon.channel()), "default");
        Any event = Any.newBuilder().setTypeUrl("containerd.events.NamespaceCreate")
                .setValue(NamespaceCreate.newBuilder().setName("x").build().toByteString()).build();
        Thread publisher = Thread.ofVirtual().start(() -> {
            for (int i = 0; i < 100 && !Thread.currentThread().isInterrupted(); i++) {
                ev.publish(PublishRequest.newBuilder().setTopic("/test/other").setEvent(event).build());
                ev.publish(PublishRequest.newBuilder().setTopic("/test/hello").setEvent(event).build());
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        try {
            var env = it.next();
            assertThat(env.getTopic()).isEqualTo("/test/hello");
            assertThat(env.getNamespace()).isEqualTo("default");
            assertThat(env.getEvent().getTypeUrl()).isEqualTo("containerd.events.NamespaceCreate");
        } finally {
            publisher.interrupt();
        }
    }

    @Test
    void sigusr1WritesThreadDumpUnderState() throws Exception {
        new ProcessBuilder("kill", "-USR1", Long.toString(daemon.process().pid())).start().waitFor();
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (System.nanoTime() < deadline) {
            try (var files = Files.list(daemon.state())) {
                var dump = files.filter(p -> p.getFileName().toString().endsWith(".stacks.log")).findFirst();
                if (dump.isPresent()) {
                    assertThat(Files.readString(dump.get())).contains("main");
                    return;
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no stack dump under " + daemon.state() + "\n" + daemon.logText());
    }

    private static CreateNamespaceRequest create(String name, String k, String v) {
        return CreateNamespaceRequest.newBuilder().setNamespace(Namespace.newBuilder().setName(name).putLabels(k, v)).build();
    }
}
