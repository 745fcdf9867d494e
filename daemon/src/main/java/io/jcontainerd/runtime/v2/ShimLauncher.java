package io.jcontainerd.runtime.v2;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.google.protobuf.Any;
import io.jcontainerd.api.runc.v1.Options;
import io.jcontainerd.config.GoDuration;
import io.jcontainerd.errdefs.Errdefs;
import io.jcontainerd.ttrpc.TtrpcClient;
import java.io.File;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The runtime v2 {@code start} step, done by the daemon itself for jcontainerd's own shim: a JVM boot saved
 * per container (the {@code start} command is a JVM of its own), and one long-lived shim serving a whole
 * group of containers ({@code shim_group}: per container, per pod, per namespace). It launches the
 * long-lived shim exactly as the shim's {@code start} does (same argv, environment, bundle as working
 * directory, own session, stdio on /dev/null, {@code shim_cgroup}, oom_score_adj of the daemon + 1), or
 * finds the group's running shim at its socket. The socket path is derived from the group with the
 * shim's formula, so a restarted daemon finds the same shims. Other shims keep the {@code start} protocol.
 */
public final class ShimLauncher {
    /** Our shims' sockets: 20 + 64 characters, well inside sun_path's 108. */
    public static final String SOCKET_DIR = "/run/jcontainerd/s";
    /** Annotations that put containers into one shim, as containerd's runc shim honours them. */
    public static final List<String> GROUP_ANNOTATIONS = List.of("io.containerd.runc.v2.group", "io.kubernetes.cri.sandbox-id");
    static final List<String> POLICIES = List.of("container", "pod", "namespace");
    private static final Duration START_TIMEOUT = Duration.ofSeconds(20);
    /** How long an exiting shim may take to give its socket up (it drains its events first, up to 5 s). */
    private static final Duration EXIT_TIMEOUT = Duration.ofSeconds(10);
    private static final String SETSID = "/usr/bin/setsid";

    private final Path builtin;
    /** Striped by socket: one launch per group at a time, without a lock per container ever seen. */
    private final ReentrantLock[] locks = new ReentrantLock[32];

    /** {@code builtin}: the built-in shim's launcher, when there is one. */
    ShimLauncher(Optional<Path> builtin) {
        this.builtin = builtin.map(ShimLauncher::real).orElse(null);
        for (int i = 0; i < locks.length; i++) locks[i] = new ReentrantLock();
    }

    /** Whether {@code runtime} is jcontainerd's own shim launcher (symbolic links resolved). */
    boolean isBuiltin(Path runtime) {
        return builtin != null && builtin.equals(real(runtime));
    }

    private static Path real(Path p) {
        try {
            return p.toRealPath();
        } catch (IOException e) {
            return p.toAbsolutePath().normalize();
        }
    }

    /** The shim socket for a group: {@code SOCKET_DIR/sha256(<daemon address>/<namespace>/<group>)}. */
    public static Path socketPath(String daemonAddress, String namespace, String group) {
        String joined = daemonAddress.isEmpty() ? Path.of(namespace, group).normalize().toString()
                : Path.of(daemonAddress, namespace, group).normalize().toString();
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(joined.getBytes(StandardCharsets.UTF_8));
            return Path.of(SOCKET_DIR, HexFormat.of().formatHex(d));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The group of a container under {@code policy}: {@code container}, its id; {@code pod}, a grouping
     * annotation, else the id; {@code namespace} (and empty), a grouping annotation, else the namespace
     * as a whole (the empty group, which no container id can be).
     */
    static String group(String policy, String id, byte[] spec) throws IOException {
        String p = policy == null || policy.isEmpty() ? RuntimeConfig.DEFAULT_GROUP : policy;
        return switch (p) {
            case "container" -> id;
            case "pod" -> groupAnnotation(spec).orElse(id);
            case "namespace" -> groupAnnotation(spec).orElse("");
            default -> throw Errdefs.invalidArgument("invalid shim_group %s: one of %s", p, POLICIES);
        };
    }

    /**
     * The group's shim: its address, a connection to it (the one that showed it serving: no second
     * connect), and whether it already served others of the group.
     */
    record Started(String address, TtrpcClient client, boolean reused) {}

    /** Work to do just before a new shim is launched (not when the group's shim is reused). */
    @FunctionalInterface
    interface BeforeLaunch {
        void run() throws IOException;
    }

    /**
     * The running shim of the container's group, or a new one; {@code fresh}: the one found was exiting,
     * wait it out. {@code beforeLaunch} runs only when a shim is launched (its log FIFO must have a reader
     * by then; a reused shim logs to the bundle it was started in).
     */
    Started start(ShimBinary binary, Bundle bundle, RuntimeConfig.Runtime settings, Any options, byte[] spec, boolean fresh,
                  BeforeLaunch beforeLaunch) throws IOException {
        String group = group(settings.shimGroup(), bundle.id(), spec);
        Path socket = socketPath(binary.address(), bundle.namespace(), group);
        String address = "unix://" + socket;
        ReentrantLock lock = locks[Math.floorMod(socket.hashCode(), locks.length)];
        lock.lock();
        try {
            if (fresh) {
                awaitGone(socket);
            } else {
                TtrpcClient running = tryConnect(socket);
                if (running != null) return new Started(address, running, true);
            }
            beforeLaunch.run();
            Files.createDirectories(socket.getParent());
            List<String> args = new ArrayList<>(List.of("-id", bundle.id(), "-socket", socket.toString()));
            Duration idle = settings.shimIdleTimeout();
            if (idle != null && idle.isPositive()) args.addAll(List.of("-idle-timeout", GoDuration.format(idle)));
            if (binary.debug()) args.add("-debug");
            ProcessBuilder pb = binary.command(bundle, args)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.DISCARD);
            // a session of its own: no controlling terminal, no signals aimed at the daemon's process group
            if (Files.isExecutable(Path.of(SETSID))) pb.command().addFirst(SETSID);
            Process child = pb.start();
            TtrpcClient client = awaitServing(child, socket);
            try {
                applyShimCgroup(child.pid(), options);
            } catch (IOException | RuntimeException e) {
                client.close();
                throw e;
            }
            adjustOomScore(child.pid(), ProcessHandle.current().pid());
            return new Started(address, client, false);
        } finally {
            lock.unlock();
        }
    }

    /** Waits until the new shim accepts a connection, and returns that connection. */
    private static TtrpcClient awaitServing(Process child, Path socket) throws IOException {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        TtrpcClient client;
        while ((client = tryConnect(socket)) == null) {
            if (!child.isAlive()) throw new IOException("shim exited with status " + child.exitValue() + " before serving " + socket);
            if (System.nanoTime() > deadline) {
                child.destroyForcibly();
                throw new IOException("timed out waiting for the shim to serve " + socket);
            }
            sleep(2);
        }
        return client;
    }

    /** A connection to the shim at {@code socket}, or null when nothing serves there. */
    private static TtrpcClient tryConnect(Path socket) {
        try {
            return TtrpcClient.connect(socket);
        } catch (IOException e) {
            return null;
        }
    }

    /** An exiting shim still answers until its events are out; a new one can only bind once it is gone. */
    private static void awaitGone(Path socket) throws IOException {
        long deadline = System.nanoTime() + EXIT_TIMEOUT.toNanos();
        while (canConnect(socket)) {
            if (System.nanoTime() > deadline) throw new IOException("shim at " + socket + " neither serves nor exits");
            sleep(10);
        }
    }

    private static void sleep(long ms) throws IOException {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted waiting for the shim", e);
        }
    }

    static boolean canConnect(Path socket) {
        try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** The first non-empty grouping annotation of the OCI spec (a streaming scan of its top level). */
    static Optional<String> groupAnnotation(byte[] spec) throws IOException {
        try (JsonParser p = new JsonFactory().createParser(spec)) {
            if (p.nextToken() != JsonToken.START_OBJECT) return Optional.empty();
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken t = p.nextToken();
                if (!name.equals("annotations") || t != JsonToken.START_OBJECT) {
                    p.skipChildren();
                    continue;
                }
                String[] found = new String[GROUP_ANNOTATIONS.size()];
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    int i = GROUP_ANNOTATIONS.indexOf(p.currentName());
                    p.nextToken();
                    if (i >= 0 && p.currentToken() == JsonToken.VALUE_STRING) found[i] = p.getText();
                    else p.skipChildren();
                }
                for (String g : found) if (g != null && !g.isEmpty()) return Optional.of(g);
                return Optional.empty();
            }
            return Optional.empty();
        }
    }

    /** runc options' {@code shim_cgroup} (the options Any of a task): process {@code pid} joins it. */
    public static void applyShimCgroup(long pid, Any options) throws IOException {
        if (options == null || !options.getTypeUrl().endsWith("containerd.runc.v1.Options")) return;
        String cg = Options.parseFrom(options.getValue()).getShimCgroup();
        if (cg.isEmpty()) return;
        byte[] pidBytes = Long.toString(pid).getBytes(StandardCharsets.US_ASCII);
        String rel = cg.startsWith("/") ? cg.substring(1) : cg;
        Path root = Path.of("/sys/fs/cgroup");
        if (Files.exists(root.resolve("cgroup.controllers"))) {
            Files.write(root.resolve(rel).resolve("cgroup.procs"), pidBytes);
            return;
        }
        try (DirectoryStream<Path> controllers = Files.newDirectoryStream(root)) {
            for (Path c : controllers) {
                Path procs = c.resolve(rel).resolve("cgroup.procs");
                if (Files.exists(procs)) Files.write(procs, pidBytes);
            }
        }
    }

    /** The shim {@code pid} is a little more killable than the daemon {@code daemonPid}, as with containerd. */
    public static void adjustOomScore(long pid, long daemonPid) {
        try {
            int score = Integer.parseInt(Files.readString(Path.of("/proc/" + daemonPid + "/oom_score_adj")).strip()) + 1;
            Files.writeString(Path.of("/proc/" + pid + "/oom_score_adj"), Integer.toString(Math.min(score, 1000)));
        } catch (IOException | NumberFormatException | SecurityException e) {
            System.getLogger(ShimLauncher.class.getName()).log(Level.WARNING, "failed to adjust OOM score for shim: " + e.getMessage());
        }
    }
}
