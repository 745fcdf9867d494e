package io.jcontainerd.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A btrfs file system on a loop device for one test class: a sparse image file, mkfs.btrfs, mount -o loop
 * under a temp directory. {@link #close()} unmounts, detaches any loop device still backed by the image and
 * deletes the directory, whatever state creation stopped in.
 */
public final class BtrfsVolume implements AutoCloseable {
    private final Path dir;
    private final Path image;
    private final Path mountPoint;

    private BtrfsVolume(Path dir) {
        this.dir = dir;
        this.image = dir.resolve("btrfs.img");
        this.mountPoint = dir.resolve("mnt");
    }

    /** Creates and mounts a volume of {@code size} (as truncate takes it, e.g. "1G"). */
    public static BtrfsVolume create(String size) throws IOException {
        BtrfsVolume v = new BtrfsVolume(Files.createTempDirectory(Path.of("/tmp"), "jcbtrfs"));
        try {
            Files.createDirectory(v.mountPoint);
            run("truncate", "-s", size, v.image.toString());
            run("mkfs.btrfs", "-q", v.image.toString());
            run("mount", "-o", "loop", v.image.toString(), v.mountPoint.toString());
        } catch (IOException | RuntimeException e) {
            v.close();
            throw e;
        }
        return v;
    }

    public Path mountPoint() {
        return mountPoint;
    }

    @Override
    public void close() {
        // lazy unmount: a leftover mount below (a failed test's) must not keep the volume
        DaemonProcess.Cleanup.unmountUnder(mountPoint);
        try {
            String loops = output("losetup", "-j", image.toString());
            for (String line : loops.split("\n")) {
                int colon = line.indexOf(':');
                if (colon > 0) run("losetup", "-d", line.substring(0, colon));
            }
        } catch (IOException | RuntimeException ignored) {
            // -o loop sets autoclear, so there is usually nothing left to detach
        }
        DaemonProcess.Cleanup.deleteTree(dir);
    }

    private static void run(String... cmd) throws IOException {
        output(cmd);
    }

    private static String output(String... cmd) throws IOException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        try {
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", cmd) + ": timed out");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
        if (p.exitValue() != 0) throw new IOException(String.join(" ", cmd) + ": " + out);
        return out;
    }
}
