package io.jcontainerd.server;

import io.jcontainerd.errdefs.Errdefs;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/** Preparing and finishing unix socket paths for the daemon's listeners. */
public final class UnixSockets {
    private UnixSockets() {}

    /** Strips a {@code unix://} scheme if the address carries one. */
    public static Path path(String address) {
        return Path.of(address.startsWith("unix://") ? address.substring("unix://".length()) : address);
    }

    /**
     * Makes {@code path} free to bind: creates its parent, refuses if a live server answers on it
     * (never steal another daemon's socket), and removes a stale socket file left by a dead one.
     */
    public static void prepare(Path path) throws IOException {
        Files.createDirectories(path.toAbsolutePath().getParent());
        if (!Files.exists(path, java.nio.file.LinkOption.NOFOLLOW_LINKS)) return;
        try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            probe.connect(UnixDomainSocketAddress.of(path));
            throw Errdefs.unavailable("address %s is already in use by a running server", path);
        } catch (IOException deadOrNotASocket) {
            Files.delete(path);
        }
    }

    /** Mode 0660 and the configured owner, as containerd sets its sockets. */
    public static void restrict(Path path, int uid, int gid) throws IOException {
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-rw----"));
        if (uid != 0 || gid != 0 || !Files.getAttribute(path, "unix:uid").equals(uid)) {
            Files.setAttribute(path, "unix:uid", uid);
            Files.setAttribute(path, "unix:gid", gid);
        }
    }
}
