package io.jcontainerd.client.images;

import static org.assertj.core.api.Assertions.assertThat;

import io.jcontainerd.client.ContainerdClient;
import io.jcontainerd.client.ImagesClient;
import io.jcontainerd.client.platforms.Platforms;
import io.jcontainerd.client.reference.Reference;
import io.jcontainerd.client.remotes.Credentials;
import io.jcontainerd.client.remotes.RegistryClient;
import io.jcontainerd.testing.Ctr;
import io.jcontainerd.testing.DaemonProcess;
import io.jcontainerd.testing.Registry;
import io.jcontainerd.testing.TestImages;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Pushes what was pulled to other repositories of a real registry, and pulls it back with the real ctr. */
class PushTest {
    static DaemonProcess daemon;
    static Registry registry;
    static ContainerdClient client;

    @BeforeAll
    static void start() throws Exception {
        daemon = DaemonProcess.start();
        registry = Registry.start();
        TestImages.push(registry.host(), "library/busybox:latest");
        client = ContainerdClient.connect(daemon.address(), "push");
    }

    @AfterAll
    static void stop() {
        if (client != null) client.close();
        if (registry != null) registry.close();
        if (daemon != null) daemon.close();
    }

    static RegistryClient rc(String ref) {
        return RegistryClient.of(Reference.parse(ref), RegistryClient.Options.defaults().withHostsDir(null).withPlainHttp(true)
                .withCredentials(Credentials.anonymous()));
    }

    @Test
    void pushMountedMonolithicAndChunked() throws Exception {
        String src = registry.host() + "/library/busybox:latest";
        ImagesClient.Image img = ImagePuller.pull(client, rc(src), ImagePuller.Options.defaults().withUnpack(false, null));

        // same registry: blobs are mounted from library/busybox (its distribution source label)
        RegistryClient copy = rc(registry.host() + "/team/copy:v1");
        ImagePusher.push(client, copy, img.target(), ImagePusher.Options.defaults());
        assertThat(copy.resolve().digest()).isEqualTo(img.target().digest());
        String cfg = Images.resolve(client.content(), img.target(), Platforms.defaultMatcher()).configDescriptor().digest();
        assertThat(client.content().info(cfg).labels().get("containerd.io/distribution.source.127.0.0.1"))
                .isEqualTo("library/busybox,team/copy");

        Ctr.run(daemon.address(), "-n", "back", "images", "pull", "--plain-http", registry.host() + "/team/copy:v1").assertOk();
        assertThat(Ctr.run(daemon.address(), "-n", "back", "images", "check").assertOk().stdout()).contains("complete");

        // a fresh repository without mount sources, uploaded in 64 KiB chunks
        for (var info : client.content().list()) {
            client.content().setLabel(info.digest(), "containerd.io/distribution.source.127.0.0.1", "");
        }
        RegistryClient chunked = rc(registry.host() + "/other/chunked:2");
        ImagePusher.push(client, chunked, img.target(), new ImagePusher.Options(null, 64 << 10, 2, null));
        ContainerdClient fresh = client.withNamespace("chunked");
        ImagesClient.Image back = ImagePuller.pull(fresh, chunked, ImagePuller.Options.defaults());
        assertThat(back.target().digest()).isEqualTo(img.target().digest());
        assertThat(Images.check(fresh.content(), back.target(), Platforms.defaultMatcher()).complete()).isTrue();
    }
}
