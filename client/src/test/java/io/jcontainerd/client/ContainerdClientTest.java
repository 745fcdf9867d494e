package io.jcontainerd.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import io.grpc.Status;
import io.jcontainerd.api.services.images.v1.ImageCreate;
import io.jcontainerd.client.images.Descriptor;
import io.jcontainerd.client.images.MediaTypes;
import io.jcontainerd.testing.ContentUpload;
import io.jcontainerd.testing.DaemonProcess;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The client library's service wrappers against a real jcontainerd. */
class ContainerdClientTest {
    static DaemonProcess daemon;
    static ContainerdClient client;

    @BeforeAll
    static void start() throws Exception {
        // snapshots and blobs made here hold no lease; automatic collections (which would rightly take
        // them) are kept out of the way so the tests see what they just created
        daemon = DaemonProcess.start(DaemonProcess.WITHOUT_AUTOMATIC_GC);
        client = ContainerdClient.connect(daemon.address(), "core");
    }

    @AfterAll
    static void stop() {
        if (client != null) client.close();
        if (daemon != null) daemon.close();
    }

    @Test
    void versionIntrospectionAndNamespaces() {
        assertThat(client.version().version()).isNotBlank();
        assertThat(client.introspection().plugins()).anySatisfy(p -> assertThat(p.type()).isEqualTo("io.containerd.grpc.v1"));
        assertThat(client.introspection().server().uuid()).isNotBlank();

        client.namespaces().create("ns-a", Map.of("team", "x"));
        assertThat(client.namespaces().list()).extracting(NamespacesClient.Namespace::name).contains("ns-a");
        client.namespaces().update("ns-a", Map.of("team", "y"), "labels.team");
        assertThat(client.namespaces().get("ns-a").labels()).containsEntry("team", "y");
        client.namespaces().delete("ns-a");
        assertThatThrownBy(() -> client.namespaces().get("ns-a"))
                .isInstanceOfSatisfying(ClientException.class, e -> assertThat(e.code()).isEqualTo(Status.Code.NOT_FOUND));
    }

    @Test
    void contentWriteResumeAndRandomRead() throws Exception {
        byte[] data = new byte[3 * ContentWriter.CHUNK + 12345];
        new Random(7).nextBytes(data);
        String digest = ContentUpload.sha256(data);
        client.withLease(Duration.ofMinutes(5), leased -> {
            ContentClient content = leased.content();
            // first half, then the stream ends without commit
            try (ContentWriter w = content.writer("resume-me", data.length, digest)) {
                assertThat(w.offset()).isZero();
                w.write(data, 0, data.length / 2);
            }
            assertThat(content.status("resume-me").offset()).isEqualTo(data.length / 2);
            assertThat(content.statuses()).extracting(ContentClient.Status::ref).contains("resume-me");
            try (ContentWriter w = content.writer("resume-me", data.length, digest)) {
                assertThat(w.offset()).isEqualTo(data.length / 2);
                w.write(data, (int) w.offset(), data.length - (int) w.offset());
                assertThat(w.commit(data.length, digest, Map.of("a", "b"))).isEqualTo(digest);
            }
            assertThat(content.info(digest).size()).isEqualTo(data.length);
            assertThat(content.info(digest).labels()).containsEntry("a", "b");
            // random access
            byte[] buf = new byte[100];
            try (ContentReader r = content.reader(digest)) {
                assertThat(r.readAt(ContentWriter.CHUNK * 2L - 50, buf, 0, 100)).isEqualTo(100);
                assertThat(buf).isEqualTo(java.util.Arrays.copyOfRange(data, ContentWriter.CHUNK * 2 - 50, ContentWriter.CHUNK * 2 + 50));
                assertThat(r.readAt(data.length, buf, 0, 10)).isEqualTo(-1);
                try (InputStream in = r.stream(10, 0)) {
                    assertThat(in.readNBytes(5)).isEqualTo(java.util.Arrays.copyOfRange(data, 10, 15));
                }
            }
            assertThat(content.read(digest)).isEqualTo(data);
            // an existing blob is AlreadyExists on open
            assertThatThrownBy(() -> content.writer("again", data.length, digest))
                    .isInstanceOfSatisfying(ClientException.class, e -> assertThat(e.isAlreadyExists()).isTrue());
            assertThat(content.write("again", data, digest, Map.of())).isEqualTo(digest);
            content.setLabel(digest, "a", "");
            assertThat(content.info(digest).labels()).doesNotContainKey("a");
            // a wrong expected digest fails the commit
            byte[] small = "hello".getBytes(StandardCharsets.UTF_8);
            assertThatThrownBy(() -> content.write("bad", small, ContentUpload.sha256("other".getBytes()), Map.of()))
                    .isInstanceOf(ClientException.class);
            content.abort("bad");
            return null;
        });
        // the lease is gone after withLease
        assertThat(client.leases().list()).isEmpty();
    }

    @Test
    void imagesEventsAndLeases() throws Exception {
        ContainerdClient ns = client.withNamespace("evts");
        try (EventsClient.EventStream stream = ns.events().subscribe("topic==\"/images/create\"")) {
            List<EventsClient.Event> viaFlow = new ArrayList<>();
            CountDownLatch got = new CountDownLatch(1);
            CountDownLatch subscribed = new CountDownLatch(1);
            ns.events().publisher("topic~=\"/images/\"").subscribe(new Flow.Subscriber<>() {
                Flow.Subscription s;

                @Override
                public void onSubscribe(Flow.Subscription s) {
                    this.s = s;
                    s.request(1);
                    subscribed.countDown();
                }

                @Override
                public void onNext(EventsClient.Event e) {
                    viaFlow.add(e);
                    got.countDown();
                    s.cancel();
                }

                @Override
                public void onError(Throwable t) {}

                @Override
                public void onComplete() {}
            });
            subscribed.await(5, TimeUnit.SECONDS);
            Thread.sleep(200); // subscriptions are registered asynchronously by the daemon

            String lease = ns.leases().create(null, Map.of()).id();
            ContainerdClient leased = ns.withLease(lease);
            byte[] manifest = "{}".getBytes(StandardCharsets.UTF_8);
            String digest = leased.content().write("m", manifest, ContentUpload.sha256(manifest), Map.of());
            assertThat(ns.leases().listResources(lease)).contains(new LeasesClient.Resource(digest, "content"));
            Descriptor target = new Descriptor(MediaTypes.OCI_MANIFEST, digest, manifest.length);
            ns.images().create(new ImagesClient.Image("example.com/a:1", target));
            assertThatThrownBy(() -> ns.images().create(new ImagesClient.Image("example.com/a:1", target)))
                    .isInstanceOfSatisfying(ClientException.class, e -> assertThat(e.isAlreadyExists()).isTrue());
            ns.images().update(new ImagesClient.Image("example.com/a:1", Map.of("k", "v"), target, null, null), "labels.k");
            assertThat(ns.images().get("example.com/a:1").labels()).containsEntry("k", "v");
            assertThat(ns.images().list("name==example.com/a:1")).hasSize(1);

            assertThat(stream.hasNext()).isTrue();
            EventsClient.Event e = stream.next();
            assertThat(e.topic()).isEqualTo("/images/create");
            assertThat(e.namespace()).isEqualTo("evts");
            assertThat(e.unpack(ImageCreate.class).getName()).isEqualTo("example.com/a:1");
            assertThat(got.await(5, TimeUnit.SECONDS)).isTrue();
            assertThat(viaFlow.getFirst().topic()).isEqualTo("/images/create");

            ns.images().delete("example.com/a:1", true);
            ns.leases().delete(lease, true);
            assertThat(ns.content().exists(digest)).isFalse();
        }
    }

    @Test
    void snapshotsDiffAndContainers() throws Exception {
        ContainerdClient ns = client.withNamespace("snaps");
        SnapshotsClient sn = ns.snapshots("native");
        List<Mount> mounts = sn.prepare("work", "", Map.of("x", "1"));
        assertThat(mounts).isNotEmpty();
        sn.commit("base", "work", Map.of());
        assertThat(sn.stat("base").kind()).isEqualTo(SnapshotsClient.Kind.COMMITTED);
        sn.view("v", "base", Map.of());
        assertThat(sn.list()).extracting(SnapshotsClient.Info::name).contains("base", "v");
        sn.update("base", Map.of("y", "2"), "labels.y");
        assertThat(sn.stat("base").labels()).containsEntry("y", "2");
        assertThat(sn.usage("base").size()).isGreaterThanOrEqualTo(0);
        sn.remove("v");
        sn.remove("base");
        assertThat(sn.exists("base")).isFalse();

        var c = ns.containers().create(ContainersClient.Container.of("c1", "docker.io/library/busybox:latest",
                "io.containerd.runc.v2", Any.newBuilder().setTypeUrl("types.containerd.io/opencontainers/runtime-spec/1/Spec")
                        .setValue(com.google.protobuf.ByteString.copyFromUtf8("{}")).build(), "native", "c1"));
        assertThat(c.createdAt()).isNotNull();
        assertThat(ns.containers().list()).extracting(ContainersClient.Container::id).containsExactly("c1");
        ns.containers().delete("c1");
        assertThatThrownBy(() -> ns.containers().get("c1")).isInstanceOfSatisfying(ClientException.class, e -> assertThat(e.isNotFound()).isTrue());
    }
}
