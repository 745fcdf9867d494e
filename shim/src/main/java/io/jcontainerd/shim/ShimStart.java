package io.jcontainerd.shim;

import com.google.protobuf.Any;
import io.jcontainerd.runtime.v2.ShimLauncher;
import io.jcontainerd.shim.util.Json;
import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The {@code start} action: find or launch the long-lived shim for this container (or its group), write
 * the bundle's {@code address} file and print {@code unix://<socket>}. The socket is named like
 * containerd's: a SHA-256 of {@code <daemon address>/<namespace>/<group>}, under {@value #SOCKET_DIR}.
 */
public final class ShimStart {
    /** Our shims' sockets: the daemon's {@link ShimLauncher} names them the same way. */
    public static final String SOCKET_DIR = ShimLauncher.SOCKET_DIR;
    /** Annotations that put containers into one shim, as containerd's runc shim honours them. */
    static final List<String> GROUP_LABELS = ShimLauncher.GROUP_ANNOTATIONS;
    private static final long START_TIMEOUT_NANOS = 20_000_000_000L;
    private static final String SETSID = "/usr/bin/setsid";

    private ShimStart() {}

    static String selfName() {
        return "jcontainerd-shim-runc-v2";
    }

    /** The shim socket for a container or group: {@code SOCKET_DIR/sha256(address/namespace/group)}. */
    public static Path socketPath(String daemonAddress, String namespace, String group) {
        return ShimLauncher.socketPath(daemonAddress, namespace, group);
    }

    /** The group a container's shim serves: a grouping annotation from config.json, else the id. */
    static String grouping(Path bundle, String id) throws IOException {
        Object annotations = Json.path(Json.parse(Files.readString(bundle.resolve("config.json"))), "annotations");
        if (annotations instanceof Map<?, ?> m) {
            for (String label : GROUP_LABELS) {
                if (m.get(label) instanceof String g && !g.isEmpty()) return g;
            }
        }
        return id;
    }

    static void run(Flags f) throws Exception {
        Path bundle = Path.of(System.getProperty("user.dir"));
        Path socket = socketPath(f.address(), f.namespace(), grouping(bundle, f.id()));
        String address = "unix://" + socket;

        if (Files.exists(socket)) {
            if (canConnect(socket)) {
                // grouping: the shim for this group already runs
                writeAddress(bundle, address);
                print(address);
                return;
            }
            Files.deleteIfExists(socket);
        }
        Files.createDirectories(socket.getParent());
        writeAddress(bundle, address);

        List<String> argv = new ArrayList<>();
        // a session of its own: no controlling terminal, no signals aimed at the daemon's process group
        if (Files.isExecutable(Path.of(SETSID))) argv.add(SETSID);
        argv.addAll(selfCommand());
        argv.addAll(List.of("-namespace", f.namespace(), "-id", f.id(), "-address", f.address(),
                "-publish-binary", f.publishBinary(), "-socket", socket.toString()));
        if (f.debug()) argv.add("-debug");
        // java.lang.Process is fine here: this short-lived process reaps nothing else, and it never waits for
        // the shim, which outlives it and is reparented
        Process child = new ProcessBuilder(argv).directory(bundle.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();

        long deadline = System.nanoTime() + START_TIMEOUT_NANOS;
        while (!canConnect(socket)) {
            if (!child.isAlive()) {
                // another start for the same group may have won the race for the socket
                if (canConnect(socket)) break;
                throw new IOException("shim exited with status " + child.exitValue() + " before serving " + socket);
            }
            if (System.nanoTime() > deadline) {
                child.destroyForcibly();
                throw new IOException("timed out waiting for the shim to serve " + socket);
            }
            Thread.sleep(1);
        }
        int pid = (int) child.pid();
        applyOptions(pid);
        adjustOomScore(pid);
        print(address);
    }

    /**
     * How this JVM was started, minus the shim's own arguments: the java binary, its options, the class
     * path and the main class, read back from /proc/self/cmdline.
     */
    static List<String> selfCommand() {
        ProcessHandle.Info info = ProcessHandle.current().info();
        String java = info.command().orElseThrow(() -> new IllegalStateException("cannot find the java command"));
        String[] args = info.arguments().orElseThrow(() -> new IllegalStateException("cannot read the command line"));
        List<String> cmd = new ArrayList<>();
        cmd.add(java);
        for (String a : args) {
            // a training run's cache output is not the shim's to write
            if (a.startsWith("-XX:AOTCacheOutput") || a.startsWith("-XX:AOTMode") || a.startsWith("-XX:AOTConfiguration")) continue;
            cmd.add(a);
            if (a.equals(Main.class.getName())) return cmd;
        }
        throw new IllegalStateException("main class not found on the command line");
    }

    private static boolean canConnect(Path socket) {
        try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** The bundle's {@code address} file, replaced atomically as containerd's shim does. */
    static void writeAddress(Path bundle, String address) throws IOException {
        Path tmp = bundle.resolve(".address");
        Files.writeString(tmp, address);
        Files.move(tmp, bundle.resolve("address"), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static void print(String address) {
        System.out.print(address);
        System.out.flush();
    }

    /** Runtime options arrive on stdin as an Any; the shim's cgroup is the one that matters at start. */
    private static void applyOptions(int pid) throws IOException {
        byte[] data = System.in.readAllBytes();
        if (data.length > 0) ShimLauncher.applyShimCgroup(pid, Any.parseFrom(data));
    }

    /** The shim is a little more killable than the daemon that started this process, as with containerd. */
    private static void adjustOomScore(int pid) {
        ShimLauncher.adjustOomScore(pid, ProcessHandle.current().parent().map(ProcessHandle::pid).orElse(1L));
    }
}
