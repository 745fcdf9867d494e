package io.jcontainerd.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Builds a small busybox image offline (umoci + skopeo, busybox-static), once per test JVM: an OCI
 * layout plus docker-archive and oci-archive tarballs named {@code docker.io/library/busybox:latest}.
 */
public final class TestImages {
    private static Path dir;

    private TestImages() {}

    /** The directory holding {@code layout/} (OCI layout, tag latest), {@code busybox-docker.tar}, {@code busybox-oci.tar}. */
    public static synchronized Path busybox() throws IOException, InterruptedException {
        if (dir != null) return dir;
        Path d = Files.createTempDirectory("jcd-images");
        Runtime.getRuntime().addShutdownHook(new Thread(() -> DaemonProcess.Cleanup.deleteTree(d)));
        String layout = d.resolve("layout").toString();
        String bundle = d.resolve("bundle").toString();
        run(d, "umoci", "init", "--layout", layout);
        run(d, "umoci", "new", "--image", layout + ":latest");
        run(d, "umoci", "unpack", "--rootless", "--image", layout + ":latest", bundle);
        Path bin = Files.createDirectories(d.resolve("bundle/rootfs/bin"));
        Files.copy(Path.of("/bin/busybox"), bin.resolve("busybox"));
        for (String applet : List.of("sh", "echo", "cat", "ls", "sleep", "true", "false", "id", "hostname")) {
            Files.createSymbolicLink(bin.resolve(applet), Path.of("busybox"));
        }
        run(d, "umoci", "repack", "--image", layout + ":latest", bundle);
        run(d, "umoci", "config", "--image", layout + ":latest", "--config.cmd", "/bin/sh", "--config.env", "PATH=/bin");
        run(d, "skopeo", "copy", "-q", "oci:" + layout + ":latest",
                "docker-archive:" + d.resolve("busybox-docker.tar") + ":docker.io/library/busybox:latest");
        run(d, "skopeo", "copy", "-q", "oci:" + layout + ":latest",
                "oci-archive:" + d.resolve("busybox-oci.tar") + ":docker.io/library/busybox:latest");
        dir = d;
        return d;
    }

    /** Pushes the busybox layout to {@code registry} (host:port, plain HTTP) as {@code repo:tag}. */
    public static void push(String registry, String repoAndTag) throws IOException, InterruptedException {
        Path d = busybox();
        run(d, "skopeo", "copy", "-q", "--dest-tls-verify=false", "oci:" + d.resolve("layout") + ":latest",
                "docker://" + registry + "/" + repoAndTag);
    }

    static void run(Path cwd, String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed: " + out);
        }
    }
}
