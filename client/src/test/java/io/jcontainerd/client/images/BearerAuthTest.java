package io.jcontainerd.client.images;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.jcontainerd.client.ClientException;
import io.jcontainerd.client.ContainerdClient;
import io.jcontainerd.client.ImagesClient;
import io.jcontainerd.client.platforms.Platforms;
import io.jcontainerd.client.reference.Reference;
import io.jcontainerd.client.remotes.Credentials;
import io.jcontainerd.client.remotes.RegistryClient;
import io.jcontainerd.client.testing.TokenRegistry;
import io.jcontainerd.testing.Ctr;
import io.jcontainerd.testing.DaemonProcess;
import io.jcontainerd.testing.TestImages;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The bearer token flow against a real registry that only accepts signed tokens: the client answers the
 * registry's {@code WWW-Authenticate: Bearer realm=...,service=...,scope=...} challenge by asking the
 * token server for the scope it needs, anonymously or with credentials.
 */
class BearerAuthTest {
    static DaemonProcess daemon;
    static TokenRegistry registry;
    static ContainerdClient client;

    @BeforeAll
    static void start() throws Exception {
        daemon = DaemonProcess.start();
        registry = TokenRegistry.start("alice", "s3cret");
        client = ContainerdClient.connect(daemon.address(), "bearer");
        // skopeo (containers/image) pushes through the same token server: the fixture works for a third party
        Path layout = TestImages.busybox().resolve("layout");
        Process p = new ProcessBuilder("skopeo", "copy", "-q", "--dest-tls-verify=false", "--dest-creds", "alice:s3cret",
                "oci:" + layout + ":latest", "docker://" + registry.host() + "/private/busybox:1").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out + registry.log()).isZero();
    }

    @AfterAll
    static void stop() {
        if (client != null) client.close();
        if (registry != null) registry.close();
        if (daemon != null) daemon.close();
    }

    static RegistryClient rc(String ref, Credentials credentials) {
        return RegistryClient.of(Reference.parse(ref), RegistryClient.Options.defaults().withHostsDir(null).withPlainHttp(true)
                .withCredentials(credentials));
    }

    @Test
    void anonymousPullGetsAPullToken() throws Exception {
        int before = registry.requests().size();
        ContainerdClient ns = client.withNamespace("bearer-anon");
        String ref = registry.host() + "/private/busybox:1";
        ImagesClient.Image img = ImagePuller.pull(ns, rc(ref, Credentials.anonymous()), ImagePuller.Options.defaults());
        assertThat(Images.check(ns.content(), img.target(), Platforms.defaultMatcher()).complete()).isTrue();
        assertThat(registry.requests().subList(before, registry.requests().size()))
                .isNotEmpty()
                .allSatisfy(r -> {
                    assertThat(r.account()).isNull();
                    assertThat(r.status()).isEqualTo(200);
                })
                .anySatisfy(r -> assertThat(r.scopes()).contains("repository:private/busybox:pull"));
        // the real ctr follows the same challenge
        Ctr.run(daemon.address(), "-n", "bearer-ctr", "images", "pull", "--plain-http", ref).assertOk();
    }

    @Test
    void pushWithCredentialsThenPullBackWithCtr() throws Exception {
        ContainerdClient ns = client.withNamespace("bearer-push");
        ImagesClient.Image img = ImagePuller.pull(ns, rc(registry.host() + "/private/busybox:1", Credentials.anonymous()),
                ImagePuller.Options.defaults().withUnpack(false, null));
        int before = registry.requests().size();
        RegistryClient target = rc(registry.host() + "/team/pushed:v1", Credentials.fixed("alice", "s3cret"));
        ImagePusher.push(ns, target, img.target(), ImagePusher.Options.defaults());
        assertThat(registry.requests().subList(before, registry.requests().size()))
                .anySatisfy(r -> {
                    assertThat(r.account()).isEqualTo("alice");
                    assertThat(r.scopes()).anySatisfy(s -> assertThat(s).startsWith("repository:team/pushed:").contains("push"));
                });
        assertThat(target.resolve().digest()).isEqualTo(img.target().digest());

        Ctr.run(daemon.address(), "-n", "bearer-back", "images", "pull", "--plain-http", registry.host() + "/team/pushed:v1").assertOk();
        assertThat(Ctr.run(daemon.address(), "-n", "bearer-back", "images", "check").assertOk().stdout()).contains("complete");
    }

    @Test
    void wrongPasswordAndAnonymousPushAreRefused() throws Exception {
        ContainerdClient ns = client.withNamespace("bearer-refused");
        String ref = registry.host() + "/private/busybox:1";
        assertThatThrownBy(() -> rc(ref, Credentials.fixed("alice", "wrong")).resolve())
                .isInstanceOfSatisfying(ClientException.class, e -> {
                    assertThat(e.code()).isEqualTo(Status.Code.UNAUTHENTICATED);
                    assertThat(e.getMessage()).contains("token");
                });

        ImagesClient.Image img = ImagePuller.pull(ns, rc(ref, Credentials.anonymous()),
                ImagePuller.Options.defaults().withUnpack(false, null));
        RegistryClient anonymous = rc(registry.host() + "/team/anonymous:v1", Credentials.anonymous());
        assertThatThrownBy(() -> ImagePusher.push(ns, anonymous, img.target(), ImagePusher.Options.defaults()))
                .isInstanceOfSatisfying(ClientException.class, e ->
                        assertThat(e.code()).isIn(Status.Code.UNAUTHENTICATED, Status.Code.PERMISSION_DENIED));
        assertThatThrownBy(anonymous::resolve).isInstanceOfSatisfying(ClientException.class, e ->
                assertThat(e.code()).isEqualTo(Status.Code.NOT_FOUND));
    }
}
