package io.jcontainerd.client.images;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.jcontainerd.client.ClientException;
import io.jcontainerd.client.ContainerdClient;
import io.jcontainerd.client.ContentClient;
import io.jcontainerd.client.ContentWriter;
import io.jcontainerd.client.ImagesClient;
import io.jcontainerd.client.SnapshotsClient;
import io.jcontainerd.client.platforms.Platform;
import io.jcontainerd.client.platforms.Platforms;
import io.jcontainerd.client.reference.Reference;
import io.jcontainerd.client.remotes.Credentials;
import io.jcontainerd.client.remotes.RegistryClient;
import io.jcontainerd.testing.Ctr;
import io.jcontainerd.testing.DaemonProcess;
import io.jcontainerd.testing.Registry;
import io.jcontainerd.testing.TestImages;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Pulls from a real docker-registry through a real jcontainerd, checked against the real ctr. */
class PullTest {
    static DaemonProcess daemon;
    static Registry registry;
    static ContainerdClient client;

    @BeforeAll
    static void start() throws Exception {
        daemon = DaemonProcess.start();
        registry = Registry.start();
        TestImages.push(registry.host(), "library/busybox:latest");
        client = ContainerdClient.connect(daemon.address());
    }

    @AfterAll
    static void stop() {
        if (client != null) client.close();
        if (registry != null) registry.close();
        if (daemon != null) daemon.close();
    }

    static RegistryClient.Options plain() {
        return RegistryClient.Options.defaults().withHostsDir(null).withPlainHttp(true).withCredentials(Credentials.anonymous());
    }

    @Test
    void pullUnpacksLikeCtr() throws Exception {
        ContainerdClient ns = client.withNamespace("pull1");
        Reference ref = Reference.parse(registry.host() + "/library/busybox:latest");
        ImagesClient.Image img = ImagePuller.pull(ns, RegistryClient.of(ref, plain()), ImagePuller.Options.defaults());
        assertThat(img.name()).isEqualTo(ref.toString());
        assertThat(ns.leases().list()).isEmpty();

        ContentClient content = ns.content();
        Images.Resolved r = Images.resolve(content, img.target(), Platforms.defaultMatcher());
        Map<String, String> manifestLabels = content.info(r.manifestDescriptor().digest()).labels();
        assertThat(manifestLabels).containsEntry("containerd.io/gc.ref.content.config", r.configDescriptor().digest())
                .containsEntry("containerd.io/gc.ref.content.l.0", r.manifest().layers().getFirst().digest())
                .containsEntry("containerd.io/distribution.source.127.0.0.1", "library/busybox");
        String chainId = r.chainId();
        assertThat(content.info(r.configDescriptor().digest()).labels()).containsEntry("containerd.io/gc.ref.snapshot.overlayfs", chainId);
        assertThat(content.info(r.manifest().layers().getFirst().digest()).labels())
                .containsEntry("containerd.io/uncompressed", r.config().diffIds().getFirst());
        SnapshotsClient sn = ns.snapshots("overlayfs");
        assertThat(sn.stat(chainId).kind()).isEqualTo(SnapshotsClient.Kind.COMMITTED);

        String check = Ctr.run(daemon.address(), "-n", "pull1", "images", "check").assertOk().stdout();
        assertThat(check).contains(ref.toString()).contains("complete").contains("true");

        // the real ctr pulls the same image into another namespace: same chain id, same labels
        Ctr.run(daemon.address(), "-n", "pull2", "images", "pull", "--plain-http", ref.toString()).assertOk();
        ContainerdClient ns2 = client.withNamespace("pull2");
        assertThat(ns2.snapshots("overlayfs").stat(chainId).kind()).isEqualTo(SnapshotsClient.Kind.COMMITTED);
        Map<String, String> ctrLabels = ns2.content().info(r.manifestDescriptor().digest()).labels();
        assertThat(ctrLabels).isEqualTo(manifestLabels);
        assertThat(ns2.content().info(r.configDescriptor().digest()).labels())
                .isEqualTo(content.info(r.configDescriptor().digest()).labels());

        // pulling again is a no-op on content and snapshots
        ImagePuller.pull(ns, RegistryClient.of(ref, plain()), ImagePuller.Options.defaults());
        assertThat(sn.list()).filteredOn(i -> i.kind() == SnapshotsClient.Kind.COMMITTED).hasSize(r.manifest().layers().size());
        assertThat(sn.list()).filteredOn(i -> i.kind() == SnapshotsClient.Kind.ACTIVE).isEmpty();

        // our pull is what ctr's rm + GC understands: everything goes
        Ctr.run(daemon.address(), "-n", "pull1", "images", "rm", "--sync", ref.toString()).assertOk();
        assertThat(content.list()).isEmpty();
    }

    @Test
    void pullByDigestWithoutUnpackAndResume() throws Exception {
        // a daemon of its own: the layer must not be in its content store yet for a partial ingest to exist
        try (DaemonProcess own = DaemonProcess.start(); ContainerdClient c = ContainerdClient.connect(own.address())) {
            pullByDigestWithoutUnpackAndResume(c.withNamespace("pull3"));
        }
    }

    private void pullByDigestWithoutUnpackAndResume(ContainerdClient ns) throws Exception {
        Reference tagged = Reference.parse(registry.host() + "/library/busybox:latest");
        Descriptor root = RegistryClient.of(tagged, plain()).resolve();
        Reference byDigest = tagged.withDigest(root.digest());

        // half a layer is already in an ingest, as if an earlier pull was killed midway
        RegistryClient rc = RegistryClient.of(byDigest, plain());
        Manifests.Manifest m = Manifests.manifest(rc.fetchBytes(MediaTypes.isIndex(root.mediaType())
                ? Manifests.index(rc.fetchBytes(root)).manifests().getFirst() : root));
        Descriptor layer = m.layers().getFirst();
        String lease = ns.leases().create("keep-partial", Map.of()).id();
        try (ContentWriter w = ns.withLease(lease).content().writer(MediaTypes.refKey(layer), layer.size(), layer.digest());
             InputStream in = rc.fetch(layer, 0)) {
            byte[] half = in.readNBytes((int) layer.size() / 2);
            w.write(half, 0, half.length);
        }
        assertThat(ns.content().status(MediaTypes.refKey(layer)).offset()).isEqualTo(layer.size() / 2);

        ImagesClient.Image img = ImagePuller.pull(ns, rc, ImagePuller.Options.defaults().withUnpack(false, null));
        assertThat(img.name()).isEqualTo(byDigest.toString());
        assertThat(img.target().digest()).isEqualTo(root.digest());
        assertThat(ns.content().info(layer.digest()).size()).isEqualTo(layer.size());
        assertThat(ns.content().statuses()).isEmpty();
        assertThat(ns.snapshots("overlayfs").list()).isEmpty();
        Images.Check check = Images.check(ns.content(), img.target(), Platforms.defaultMatcher());
        assertThat(check.complete()).isTrue();
        ns.leases().delete(lease, false);

        // unpack afterwards, into native
        String chain = Unpacker.unpack(ns, Images.resolve(ns.content(), img.target(), Platforms.defaultMatcher()), "native", Progress.NONE);
        assertThat(ns.snapshots("native").stat(chain).kind()).isEqualTo(SnapshotsClient.Kind.COMMITTED);
    }

    @Test
    void badInputLeavesNoImage() throws Exception {
        ContainerdClient ns = client.withNamespace("pullbad");
        Reference ref = Reference.parse(registry.host() + "/library/busybox:latest");
        assertThatThrownBy(() -> ImagePuller.pull(ns, RegistryClient.of(ref, plain()), ImagePuller.Options.defaults()
                .withPlatforms(Platforms.only(new Platform("linux", "s390x")), false)))
                .isInstanceOfSatisfying(ClientException.class, e -> assertThat(e.getMessage()).contains("platform"));
        Reference missing = Reference.parse(registry.host() + "/library/nothere:1");
        assertThatThrownBy(() -> ImagePuller.pull(ns, RegistryClient.of(missing, plain()), ImagePuller.Options.defaults()))
                .isInstanceOfSatisfying(ClientException.class, e -> assertThat(e.code()).isEqualTo(Status.Code.NOT_FOUND));
        assertThat(ns.images().list()).isEmpty();
        assertThat(ns.leases().list()).isEmpty();
    }

    @Test
    void basicAuth() throws Exception {
        try (Registry auth = Registry.withBasicAuth("alice", "s3cret")) {
            Path layout = TestImages.busybox().resolve("layout");
            Process p = new ProcessBuilder("skopeo", "copy", "-q", "--dest-tls-verify=false", "--dest-creds", "alice:s3cret",
                    "oci:" + layout + ":latest", "docker://" + auth.host() + "/private/busybox:1").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as(out).isZero();

            ContainerdClient ns = client.withNamespace("auth");
            Reference ref = Reference.parse(auth.host() + "/private/busybox:1");
            assertThatThrownBy(() -> ImagePuller.pull(ns, RegistryClient.of(ref, plain()), ImagePuller.Options.defaults()))
                    .isInstanceOfSatisfying(ClientException.class, e -> {
                        assertThat(e.code()).isEqualTo(Status.Code.UNAUTHENTICATED);
                        assertThat(e.getMessage()).contains("unauthorized");
                    });
            assertThatThrownBy(() -> RegistryClient.of(ref, plain().withCredentials(Credentials.fixed("alice", "wrong"))).resolve())
                    .isInstanceOfSatisfying(ClientException.class, e -> assertThat(e.code()).isEqualTo(Status.Code.UNAUTHENTICATED));
            assertThat(ns.images().list()).isEmpty();

            // credentials from a docker config.json
            Path cfg = daemon.root().getParent().resolve("docker-config.json");
            java.nio.file.Files.writeString(cfg, "{\"auths\":{\"" + auth.host() + "\":{\"auth\":\""
                    + java.util.Base64.getEncoder().encodeToString("alice:s3cret".getBytes()) + "\"}}}");
            ImagesClient.Image img = ImagePuller.pull(ns, RegistryClient.of(ref, plain().withCredentials(Credentials.dockerConfig(cfg))),
                    ImagePuller.Options.defaults());
            assertThat(ns.images().get(ref.toString()).target()).isEqualTo(img.target());
            assertThat(List.of(Ctr.run(daemon.address(), "-n", "auth", "images", "check").assertOk().stdout())).anySatisfy(s -> assertThat(s).contains("complete"));
        }
    }
}
