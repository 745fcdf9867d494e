package io.jcontainerd.shim;

import io.jcontainerd.api.task.v2.DeleteResponse;
import io.jcontainerd.mount.Mounts;
import io.jcontainerd.protobuf.Timestamps;
import io.jcontainerd.shim.runc.Runc;
import io.jcontainerd.shim.util.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;

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
        try {
            runc.delete(f.id(), true);
        } catch (IOException e) {
            System.err.println("failed to remove runc container: " + e.getMessage());
        }
        try {
            Mounts.unmountAll(bundle.resolve("rootfs"), 0);
        } catch (IOException e) {
            System.err.println("failed to cleanup rootfs mount: " + e.getMessage());
        }
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
}
