package io.jcontainerd.client.archive;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jcontainerd.client.ClientException;
import io.jcontainerd.client.ContainerdClient;
import io.jcontainerd.client.ImagesClient;
import io.jcontainerd.client.SnapshotsClient;
import io.jcontainerd.client.images.Images;
import io.jcontainerd.client.platforms.Platforms;
import io.jcontainerd.testing.Ctr;
import io.jcontainerd.testing.DaemonProcess;
import io.jcontainerd.testing.TestImages;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Import of skopeo-made archives and export read back by the real ctr and skopeo. */
class ArchiveTest {
    static final String NAME = "docker.io/library/busybox:latest";
    static DaemonProcess daemon;
    static ContainerdClient client;

    @BeforeAll
    static void start() throws Exception {
        daemon = DaemonProcess.start();
        client = ContainerdClient.connect(daemon.address());
    }

    @AfterAll
    static void stop() {
        if (client != null) client.close();
        if (daemon != null) daemon.close();
    }

    static List<ImagesClient.Image> importFile(ContainerdClient c, Path file, Importer.Options o) throws Exception {
        try (InputStream in = Files.newInputStream(file)) {
            return Importer.importArchive(c, in, o);
        }
    }

    @Test
    void importsDockerArchiveLikeCtr() throws Exception {
        Path tar = TestImages.busybox().resolve("busybox-docker.tar");
        ContainerdClient ns = client.withNamespace("imp-docker");
        List<ImagesClient.Image> imgs = importFile(ns, tar, Importer.Options.defaults());
        assertThat(imgs).extracting(ImagesClient.Image::name).containsExactly(NAME);
        Images.Resolved r = Images.resolve(ns.content(), imgs.getFirst().target(), Platforms.defaultMatcher());
        assertThat(ns.snapshots("overlayfs").stat(r.chainId()).kind()).isEqualTo(SnapshotsClient.Kind.COMMITTED);
        assertThat(ns.leases().list()).isEmpty();

        Ctr.run(daemon.address(), "-n", "imp-docker-ctr", "images", "import", tar.toString()).assertOk();
        ImagesClient.Image theirs = client.withNamespace("imp-docker-ctr").images().get(NAME);
        // the same Docker schema 2 manifest, byte for byte
        assertThat(imgs.getFirst().target().digest()).isEqualTo(theirs.target().digest());
        assertThat(ns.content().info(r.manifestDescriptor().digest()).labels())
                .isEqualTo(client.withNamespace("imp-docker-ctr").content().info(r.manifestDescriptor().digest()).labels());
        assertThat(Ctr.run(daemon.address(), "-n", "imp-docker", "images", "check").assertOk().stdout()).contains("complete");
    }

    @Test
    void importsOciArchiveExportsAndCtrAndSkopeoReadIt() throws Exception {
        Path tar = TestImages.busybox().resolve("busybox-oci.tar");
        ContainerdClient ns = client.withNamespace("imp-oci");
        List<ImagesClient.Image> imgs = importFile(ns, tar, Importer.Options.defaults().withUnpack(false, null));
        assertThat(imgs).extracting(ImagesClient.Image::name).containsExactly(NAME);
        assertThat(ns.snapshots("overlayfs").list()).isEmpty();
        ns.images().create(new ImagesClient.Image("example.com/second:v2", imgs.getFirst().target()));

        Path out = daemon.root().getParent().resolve("export.tar");
        try (OutputStream os = Files.newOutputStream(out)) {
            Exporter.export(ns, List.of(NAME, "example.com/second:v2"), os, Exporter.Options.defaults());
        }
        Ctr.run(daemon.address(), "-n", "exp-ctr", "images", "import", out.toString()).assertOk();
        assertThat(Ctr.run(daemon.address(), "-n", "exp-ctr", "images", "ls", "-q").assertOk().stdout())
                .contains(NAME).contains("example.com/second:v2");
        assertThat(Ctr.run(daemon.address(), "-n", "exp-ctr", "images", "check").assertOk().stdout()).contains("complete");

        Process p = new ProcessBuilder("skopeo", "inspect", "oci-archive:" + out + ":v2").redirectErrorStream(true).start();
        String inspect = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(inspect).isZero();
        assertThat(inspect).contains("\"Architecture\": \"amd64\"");

        // and our own importer reads it back, both images
        ContainerdClient again = client.withNamespace("exp-again");
        assertThat(importFile(again, out, Importer.Options.defaults())).extracting(ImagesClient.Image::name)
                .containsExactlyInAnyOrder(NAME, "example.com/second:v2");
    }

    @Test
    void rejectsGarbage() {
        ContainerdClient ns = client.withNamespace("imp-bad");
        assertThatThrownBy(() -> Importer.importArchive(ns, new ByteArrayInputStream(new byte[1024]), Importer.Options.defaults()))
                .isInstanceOfSatisfying(ClientException.class, e -> assertThat(e.getMessage()).contains("not an image archive"));
        assertThatThrownBy(() -> Importer.importArchive(ns, new ByteArrayInputStream("hello world, not a tar".repeat(40).getBytes()),
                Importer.Options.defaults())).isInstanceOf(Exception.class);
        assertThat(ns.images().list()).isEmpty();
    }
}
