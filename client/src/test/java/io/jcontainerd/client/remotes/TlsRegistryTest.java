package io.jcontainerd.client.remotes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jcontainerd.client.ClientException;
import io.jcontainerd.client.ContainerdClient;
import io.jcontainerd.client.images.ImagePuller;
import io.jcontainerd.client.reference.Reference;
import io.jcontainerd.testing.Ctr;
import io.jcontainerd.testing.DaemonProcess;
import io.jcontainerd.testing.Registry;
import io.jcontainerd.testing.TestImages;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A registry that speaks only HTTPS with a self-signed certificate, named as an https server in a
 * {@code certs.d} hosts.toml (a loopback registry is plain HTTP otherwise, as in containerd): untrusted by
 * default, trusted through the file's {@code ca}, or not checked with {@code skip_verify} — and the real
 * ctr reads the same directory the same way.
 */
class TlsRegistryTest {
    static Path work;
    static DaemonProcess daemon;
    static Registry registry;
    static ContainerdClient client;

    @BeforeAll
    static void start() throws Exception {
        work = Files.createTempDirectory(Path.of("/tmp"), "jcd-tls");
        run(List.of("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", work.resolve("key.pem").toString(),
                "-out", work.resolve("cert.pem").toString()));
        registry = Registry.withTls(work.resolve("cert.pem"), work.resolve("key.pem"));
        run(List.of("skopeo", "copy", "-q", "--dest-cert-dir", certDir("skopeo-certs").toString(),
                "oci:" + TestImages.busybox().resolve("layout") + ":latest", "docker://" + registry.host() + "/tls/busybox:1"));
        daemon = DaemonProcess.start();
        client = ContainerdClient.connect(daemon.address(), "tls");
    }

    @AfterAll
    static void stop() {
        if (client != null) client.close();
        if (daemon != null) daemon.close();
        if (registry != null) registry.close();
        if (work != null) DaemonProcess.Cleanup.deleteTree(work);
    }

    /** A directory holding the registry's certificate as a CA (the file name skopeo and Docker expect). */
    static Path certDir(String name) throws IOException {
        Path d = Files.createDirectories(work.resolve(name));
        Files.copy(work.resolve("cert.pem"), d.resolve("ca.crt"));
        return d;
    }

    static void run(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(cmd + ": " + out).isZero();
    }

    /**
     * {@code <hosts>/127.0.0.1_<port>_/hosts.toml} naming the registry as an https server, with {@code tls}
     * settings for it. The same settings go into a {@code [host]} table for the same URL: ctr 1.6 refuses
     * a hosts.toml without one ("invalid `host` tree").
     */
    static Path hosts(String name, String tls) throws IOException {
        Path hosts = work.resolve(name);
        String h = registry.host();
        int colon = h.lastIndexOf(':');
        Path dir = Files.createDirectories(hosts.resolve(h.substring(0, colon) + "_" + h.substring(colon + 1) + "_"));
        Files.copy(work.resolve("cert.pem"), dir.resolve("registry-ca.pem"));
        Files.writeString(dir.resolve("hosts.toml"), """
                server = "https://%1$s"
                %2$s
                [host."https://%1$s"]
                  capabilities = ["pull", "resolve"]
                  %2$s
                """.formatted(h, tls));
        return hosts;
    }

    static RegistryClient rc(Path hostsDir) {
        return RegistryClient.of(Reference.parse(registry.host() + "/tls/busybox:1"),
                RegistryClient.Options.defaults().withHostsDir(hostsDir).withCredentials(Credentials.anonymous()));
    }

    static Ctr.Result ctrPull(String ns, Path hosts) {
        return Ctr.run(daemon.address(), "-n", ns, "images", "pull", "--hosts-dir", hosts.toString(), registry.host() + "/tls/busybox:1");
    }

    @Test
    void untrustedCertificateIsRefusedAndLeavesNothing() throws Exception {
        Path hosts = hosts("hosts-untrusted", "");
        ContainerdClient ns = client.withNamespace("tls-untrusted");
        assertThatThrownBy(() -> ImagePuller.pull(ns, rc(hosts), ImagePuller.Options.defaults()))
                .isInstanceOf(ClientException.class)
                .hasMessageContaining(registry.host());
        assertThat(ns.images().list()).isEmpty();
        var ctr = ctrPull("tls-ctr-untrusted", hosts);
        assertThat(ctr.exitCode()).isNotZero();
        assertThat(ctr.stderr()).contains("certificate");
    }

    @Test
    void hostsTomlCaIsTrustedByUsAndByCtr() throws Exception {
        Path hosts = hosts("hosts-ca", "ca = \"registry-ca.pem\"");
        ContainerdClient ns = client.withNamespace("tls-ca");
        ImagePuller.pull(ns, rc(hosts), ImagePuller.Options.defaults());
        assertThat(ns.images().list()).hasSize(1);
        ctrPull("tls-ctr-ca", hosts).assertOk();
    }

    @Test
    void skipVerifyInHostsToml() throws Exception {
        Path hosts = hosts("hosts-skip", "skip_verify = true");
        ContainerdClient ns = client.withNamespace("tls-skip");
        ImagePuller.pull(ns, rc(hosts), ImagePuller.Options.defaults());
        assertThat(ns.images().list()).hasSize(1);
        ctrPull("tls-ctr-skip", hosts).assertOk();
    }
}
