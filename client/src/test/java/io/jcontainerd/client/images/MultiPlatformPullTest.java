package io.jcontainerd.client.images;

import static org.assertj.core.api.Assertions.assertThat;

import io.jcontainerd.client.ContainerdClient;
import io.jcontainerd.client.ContentClient;
import io.jcontainerd.client.ImagesClient;
import io.jcontainerd.client.Json;
import io.jcontainerd.client.cli.Jctr;
import io.jcontainerd.client.platforms.Platform;
import io.jcontainerd.client.platforms.Platforms;
import io.jcontainerd.client.testing.GeneratedImages;
import io.jcontainerd.testing.Ctr;
import io.jcontainerd.testing.DaemonProcess;
import io.jcontainerd.testing.Registry;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A three-platform index (linux/amd64 busybox, synthetic linux/arm64 and linux/arm/v7) in a real
 * docker-registry, pulled with jctr: the host's platform by default, {@code --platform},
 * {@code --all-platforms}, and an unknown platform.
 */
class MultiPlatformPullTest {
    static DaemonProcess daemon;
    static Registry registry;
    static ContainerdClient client;
    static String ref;
    /** Manifest descriptors of the index, by platform string ("linux/arm/v7"). */
    static Map<String, Descriptor> manifests;

    @BeforeAll
    static void start() throws Exception {
        daemon = DaemonProcess.start();
        registry = Registry.start();
        Path layout = GeneratedImages.multiPlatform(GeneratedImages.defaultCache());
        GeneratedImages.push(layout, registry.host(), "multi/busybox:latest");
        ref = registry.host() + "/multi/busybox:latest";
        client = ContainerdClient.connect(daemon.address());
        Map<String, Object> top = Json.parseObject(Files.readAllBytes(layout.resolve("index.json")));
        String indexDigest = Json.str(first(top), "digest");
        Map<String, Object> index = Json.parseObject(Files.readAllBytes(layout.resolve("blobs/sha256/" + indexDigest.substring(7))));
        manifests = Json.arr(index, "manifests").stream().map(o -> Descriptor.fromJson(cast(o)))
                .collect(Collectors.toMap(d -> Platforms.format(d.platform()), d -> d));
        assertThat(manifests).containsOnlyKeys("linux/amd64", "linux/arm64", "linux/arm/v7");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> cast(Object o) {
        return (Map<String, Object>) o;
    }

    private static Map<String, Object> first(Map<String, Object> index) {
        return cast(Json.arr(index, "manifests").getFirst());
    }

    @AfterAll
    static void stop() {
        if (client != null) client.close();
        if (registry != null) registry.close();
        if (daemon != null) daemon.close();
    }

    record Result(int code, String out, String err) {}

    static Result jctr(String ns, String... args) {
        StringWriter o = new StringWriter();
        StringWriter e = new StringWriter();
        String[] all = new String[args.length + 2];
        all[0] = "-n";
        all[1] = ns;
        System.arraycopy(args, 0, all, 2, args.length);
        int code = Jctr.run(all, Map.of("CONTAINERD_ADDRESS", daemon.address()), new PrintWriter(o), new PrintWriter(e));
        return new Result(code, o.toString(), e.toString());
    }

    /** The layer digests of a platform's manifest, read from the layout in the registry's image. */
    private static List<String> layersOf(ContentClient content, String platform) {
        return Manifests.manifest(content.read(manifests.get(platform).digest())).layers().stream().map(Descriptor::digest).toList();
    }

    @Test
    void hostPlatformByDefault() {
        Result r = jctr("mp-host", "images", "pull", "--plain-http", ref);
        assertThat(r.code()).as(r.err() + r.out()).isZero();
        assertThat(r.out()).contains("unpacked linux/amd64");
        ContainerdClient ns = client.withNamespace("mp-host");
        ContentClient content = ns.content();
        assertThat(content.exists(manifests.get("linux/amd64").digest())).isTrue();
        assertThat(content.exists(manifests.get("linux/arm64").digest())).isFalse();
        assertThat(content.exists(manifests.get("linux/arm/v7").digest())).isFalse();
        ImagesClient.Image img = ns.images().get(ref);
        Images.Resolved res = Images.resolve(content, img.target(), Platforms.defaultMatcher());
        assertThat(ns.snapshots("overlayfs").stat(res.chainId()).kind()).isNotNull();
        assertThat(Ctr.run(daemon.address(), "-n", "mp-host", "images", "check").assertOk().stdout()).contains("complete");
    }

    @Test
    void explicitPlatformIsTheOneFetchedAndUnpacked() {
        Result r = jctr("mp-arm64", "images", "pull", "--plain-http", "--platform", "linux/arm64", ref);
        assertThat(r.code()).as(r.err() + r.out()).isZero();
        assertThat(r.out()).contains("unpacked linux/arm64");
        ContainerdClient ns = client.withNamespace("mp-arm64");
        ContentClient content = ns.content();
        assertThat(content.exists(manifests.get("linux/arm64").digest())).isTrue();
        assertThat(content.exists(manifests.get("linux/amd64").digest())).isFalse();
        assertThat(content.exists(manifests.get("linux/arm/v7").digest())).isFalse();
        Images.Resolved res = Images.resolve(content, ns.images().get(ref).target(), Platforms.only(new Platform("linux", "arm64")));
        assertThat(res.config().platform().architecture()).isEqualTo("arm64");
        assertThat(res.manifest().layers().stream().map(Descriptor::digest).toList()).isEqualTo(layersOf(content, "linux/arm64"));
        assertThat(content.info(res.configDescriptor().digest()).labels())
                .containsEntry("containerd.io/gc.ref.snapshot.overlayfs", res.chainId());
        assertThat(ns.snapshots("overlayfs").exists(res.chainId())).isTrue();
    }

    @Test
    void allPlatformsFetchesEveryManifest() {
        Result r = jctr("mp-all", "images", "pull", "--plain-http", "--all-platforms", ref);
        assertThat(r.code()).as(r.err() + r.out()).isZero();
        ContainerdClient ns = client.withNamespace("mp-all");
        ContentClient content = ns.content();
        for (String p : manifests.keySet()) {
            assertThat(content.exists(manifests.get(p).digest())).as(p).isTrue();
            for (String layer : layersOf(content, p)) assertThat(content.exists(layer)).as(p + " " + layer).isTrue();
        }
        ImagesClient.Image img = ns.images().get(ref);
        Images.Check check = Images.check(content, img.target(), Platforms.all());
        assertThat(check.complete()).isTrue();
        assertThat(Images.platforms(content, img.target()).stream().map(Platforms::format))
                .containsExactlyInAnyOrder("linux/amd64", "linux/arm64", "linux/arm/v7");
        // the index references all three manifests for the collector
        assertThat(content.info(img.target().digest()).labels()).containsKeys(
                "containerd.io/gc.ref.content.m.0", "containerd.io/gc.ref.content.m.1", "containerd.io/gc.ref.content.m.2");
    }

    @Test
    void unknownPlatformIsAClearErrorAndLeavesNoImage() {
        Result r = jctr("mp-none", "images", "pull", "--plain-http", "--platform", "linux/s390x", ref);
        assertThat(r.code()).isNotZero();
        assertThat(r.err()).contains("no match for platform").contains(ref);
        ContainerdClient ns = client.withNamespace("mp-none");
        assertThat(ns.images().list()).isEmpty();
        assertThat(ns.leases().list()).isEmpty();
        assertThat(ns.content().statuses()).isEmpty();
    }
}
