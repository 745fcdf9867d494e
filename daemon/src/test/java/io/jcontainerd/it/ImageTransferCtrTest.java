package io.jcontainerd.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.jcontainerd.testing.Ctr;
import io.jcontainerd.testing.DaemonProcess;
import io.jcontainerd.testing.Registry;
import io.jcontainerd.testing.TestImages;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The real ctr moving images in and out through our content, images, snapshots, diff and leases
 * services: import of docker and OCI archives, pull from a real registry, unpack, export.
 */
class ImageTransferCtrTest {
    static DaemonProcess daemon;

    @BeforeAll
    static void start() throws Exception {
        daemon = DaemonProcess.start();
    }

    @AfterAll
    static void stop() {
        if (daemon != null) daemon.close();
    }

    @Test
    void importDockerAndOciArchivesAndUnpack() throws Exception {
        Path images = TestImages.busybox();
        String a = daemon.address();
        Ctr.run(a, "-n", "imp", "images", "import", images.resolve("busybox-docker.tar").toString()).assertOk();
        assertThat(Ctr.run(a, "-n", "imp", "images", "ls").assertOk().stdout())
                .contains("docker.io/library/busybox:latest").contains("linux/amd64");
        assertThat(Ctr.run(a, "-n", "imp", "snapshots", "ls").assertOk().stdout()).contains("Committed");

        Ctr.run(a, "-n", "imp2", "images", "import", images.resolve("busybox-oci.tar").toString()).assertOk();
        String check = Ctr.run(a, "-n", "imp2", "images", "check").assertOk().stdout();
        assertThat(check).contains("docker.io/library/busybox:latest").contains("complete").containsPattern("\\s+true\\s*$|true");

        Path out = Path.of(daemon.root().getParent().toString(), "export.tar");
        Ctr.run(a, "-n", "imp2", "images", "export", out.toString(), "docker.io/library/busybox:latest").assertOk();
        Ctr.run(a, "-n", "roundtrip", "images", "import", out.toString()).assertOk();
        assertThat(Ctr.run(a, "-n", "roundtrip", "images", "ls", "-q").assertOk().stdout()).contains("docker.io/library/busybox:latest");
    }

    @Test
    void pullFromRegistryUnpacksAndRemoves() throws Exception {
        try (Registry registry = Registry.start()) {
            TestImages.push(registry.host(), "library/busybox:latest");
            String ref = registry.host() + "/library/busybox:latest";
            String a = daemon.address();
            Ctr.run(a, "-n", "pull", "images", "pull", "--plain-http", ref).assertOk();
            assertThat(Ctr.run(a, "-n", "pull", "images", "ls", "-q").assertOk().stdout()).contains(ref);
            assertThat(Ctr.run(a, "-n", "pull", "images", "check").assertOk().stdout()).contains("complete");
            assertThat(Ctr.run(a, "-n", "pull", "snapshots", "ls").assertOk().stdout()).contains("Committed");

            Ctr.run(a, "-n", "pull", "images", "rm", "--sync", ref).assertOk();
            assertThat(Ctr.run(a, "-n", "pull", "images", "ls", "-q").assertOk().stdout()).doesNotContain(ref);
            // with the image gone, the collector takes its content and snapshots
            assertThat(Ctr.run(a, "-n", "pull", "content", "ls", "-q").assertOk().stdout()).isBlank();
            assertThat(Ctr.run(a, "-n", "pull", "snapshots", "ls").assertOk().stdout()).doesNotContain("Committed");
        }
    }
}
