package io.jcontainerd.shim;

import io.jcontainerd.api.task.v2.DeleteResponse;
import io.jcontainerd.mount.MountInfo;
import io.jcontainerd.mount.Mounts;
import io.jcontainerd.protobuf.Timestamps;
import io.jcontainerd.shim.runc.Runc;
import io.jcontainerd.shim.util.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code delete} action, run by the daemon when a shim is gone: force-delete the runc container,
 * unmount the rootfs and print a protobuf {@code DeleteResponse} (pid from init.pid, status 128 + SIGKILL).
 */
final class ShimDelete {
    private ShimDelete() {}

    static void run(Flags f) throws IOException {
        Path bundle = !f.bundle().isEmpty() ? Path.of(f.bundle())
                : Path.of(System.getProperty("user.dir")).getParent().resolve(f.id());
        String binary = "runc";
        try {
            binary = Files.readString(bundle.resolve("runtime")).strip();
        } catch (NoSuchFileException missing) {
            // created by a shim that never got to Create: runc's default
        }
        String root = "";
        Path options = bundle.resolve("options.json");
        if (Files.exists(options)) {
            if (Json.path(Json.parse(Files.readString(options)), "root") instanceof String r) root = r;
        }
        Runc runc = Runc.of(binary, root, f.namespace(), bundle, "", false);
        // after a clean shutdown (containerd runs this after every shim exit) there is nothing left: runc's
        // state directory is gone and the rootfs unmounted, and this process stays free of native calls
        if (Files.exists(Path.of(runc.root(), f.id()))) {
            List<String> argv = new ArrayList<>(runc.command("delete", "--force", f.id()));
            // java.lang.Process is fine in this short-lived process: it is no subreaper and reaps nothing else
            Process p = new ProcessBuilder(argv).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
            String out = new String(p.getInputStream().readAllBytes()).strip();
            try {
                if (p.waitFor() != 0) System.err.println("failed to remove runc container: " + out);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        Path rootfs = bundle.resolve("rootfs");
        try {
            if (Files.exists(rootfs) && MountInfo.isMountPoint(rootfs)) Mounts.unmountAll(rootfs, 0);
        } catch (IOException e) {
            System.err.println("failed to cleanup rootfs mount: " + e.getMessage());
        }
        removeStaleSocket(bundle);
        int pid = 0;
        try {
            pid = Integer.parseInt(Files.readString(bundle.resolve("init.pid")).strip());
        } catch (IOException | NumberFormatException e) {
            System.err.println("failed to read init pid file: " + e.getMessage());
        }
        DeleteResponse r = DeleteResponse.newBuilder()
                .setExitedAt(Timestamps.of(Instant.now()))
                .setExitStatus(128 + 9)
                .setPid(pid)
                .build();
        System.out.write(r.toByteArray());
        System.out.flush();
    }

    /** A killed shim leaves its socket behind; remove it when nothing answers there any more. */
    private static void removeStaleSocket(Path bundle) {
        try {
            String address = Files.readString(bundle.resolve("address")).strip();
            if (!address.startsWith("unix://")) return;
            Path socket = Path.of(address.substring("unix://".length()));
            if (!socket.startsWith(ShimStart.SOCKET_DIR) || !Files.exists(socket)) return;
            try (var ch = java.nio.channels.SocketChannel.open(java.net.UnixDomainSocketAddress.of(socket))) {
                // a live shim (another container of its group, or a restarted one) keeps its socket
            } catch (IOException refused) {
                Files.deleteIfExists(socket);
            }
        } catch (IOException e) {
            // no address recorded: nothing to clean
        }
    }
}
