package io.jcontainerd.client.run;

import com.google.protobuf.Any;
import io.jcontainerd.client.ClientException;
import io.jcontainerd.client.ContainerdClient;
import io.jcontainerd.client.ContainersClient;
import io.jcontainerd.client.ImagesClient;
import io.jcontainerd.client.Mount;
import io.jcontainerd.client.SnapshotsClient;
import io.jcontainerd.client.images.Images;
import io.jcontainerd.client.images.Progress;
import io.jcontainerd.client.images.Unpacker;
import io.jcontainerd.client.oci.Spec;
import io.jcontainerd.client.platforms.Platforms;
import io.jcontainerd.client.sys.Mounter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Creates a container from an image the way {@code ctr run} / {@code ctr containers create} do:
 * unpack the image if needed, prepare a writable snapshot named after the container on the image's
 * chain id, build the spec (containerd's defaults, then the image config, then the options), label
 * the container with the image config's labels, the image's labels, the given labels and the stop
 * signal, all under a temporary lease so nothing is collected half-made.
 */
public final class NewContainer {
    public static final String DEFAULT_RUNTIME = "io.containerd.runc.v2";
    public static final String STOP_SIGNAL_LABEL = "io.containerd.image.config.stop-signal";
    /** The runc shim's options type; ctr sends an empty one for io.containerd.runc.v2. */
    public static final String RUNC_OPTIONS_TYPE = "containerd.runc.v1.Options";

    private NewContainer() {}

    /** What ctr's run/create flags choose. Null lists and maps are empty; null strings take ctr's defaults. */
    public record Options(String image, String id, List<String> args, List<String> env, Map<String, String> labels,
                          String snapshotter, String runtime, List<Spec.Mount> mounts, boolean netHost, boolean tty,
                          boolean readOnly, String cwd) {
        public Options {
            args = args == null ? List.of() : List.copyOf(args);
            env = env == null ? List.of() : List.copyOf(env);
            labels = labels == null ? Map.of() : Map.copyOf(labels);
            mounts = mounts == null ? List.of() : List.copyOf(mounts);
            snapshotter = snapshotter == null || snapshotter.isEmpty() ? "overlayfs" : snapshotter;
            runtime = runtime == null || runtime.isEmpty() ? DEFAULT_RUNTIME : runtime;
        }

        public static Options of(String image, String id, List<String> args) {
            return new Options(image, id, args, null, null, null, null, null, false, false, false, null);
        }
    }

    public static ContainersClient.Container create(ContainerdClient client, Options o) throws Exception {
        return client.withLease(Duration.ofHours(24), leased -> createLeased(leased, o));
    }

    @SuppressWarnings("unchecked")
    private static ContainersClient.Container createLeased(ContainerdClient client, Options o) throws IOException {
        ImagesClient.Image img = client.images().get(o.image());
        Images.Resolved resolved = Images.resolve(client.content(), img.target(), Platforms.defaultMatcher());
        SnapshotsClient sn = client.snapshots(o.snapshotter());
        String chainId = resolved.chainId();
        if (!sn.exists(chainId)) Unpacker.unpack(client, resolved, o.snapshotter(), Progress.NONE);
        Map<String, Object> cfgJson = resolved.config().json();
        Map<String, Object> cfg = cfgJson.get("config") instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();

        Map<String, String> labels = new LinkedHashMap<>();
        if (cfg.get("Labels") instanceof Map<?, ?> l) l.forEach((k, v) -> labels.put(String.valueOf(k), String.valueOf(v)));
        labels.putAll(img.labels());
        labels.putAll(o.labels());
        String stop = cfg.get("StopSignal") instanceof String s && !s.isEmpty() ? s : "SIGTERM";
        labels.put(STOP_SIGNAL_LABEL, stop);

        sn.prepare(o.id(), chainId, Map.of());
        Spec spec;
        try (RootFs root = new RootFs(sn, o.id())) {
            spec = Spec.defaults(client.namespace(), o.id()).withDefaultUnixDevices().withEnv(o.env()).withMounts(o.mounts())
                    .withImageConfig(cfgJson, List.of(), root::read);
            if (o.readOnly()) spec.withRootfsReadonly();
            if (!o.args().isEmpty()) spec.withProcessArgs(o.args());
            if (o.cwd() != null && !o.cwd().isEmpty()) spec.withCwd(o.cwd());
            if (o.tty()) spec.withTty();
            if (o.netHost()) spec.withHostNetwork(java.net.InetAddress.getLocalHost().getHostName());
            spec.withAnnotations(o.labels());
        } catch (IOException | RuntimeException e) {
            removeQuietly(sn, o.id());
            throw e;
        }
        Any runtimeOptions = DEFAULT_RUNTIME.equals(o.runtime()) ? Any.newBuilder().setTypeUrl(RUNC_OPTIONS_TYPE).build() : null;
        var c = new ContainersClient.Container(o.id(), labels, img.name(), o.runtime(), runtimeOptions, spec.toAny(),
                o.snapshotter(), o.id(), null, null, Map.of());
        try {
            return client.containers().create(c);
        } catch (ClientException e) {
            removeQuietly(sn, o.id());
            throw e;
        }
    }

    private static void removeQuietly(SnapshotsClient sn, String key) {
        try {
            sn.remove(key);
        } catch (ClientException ignored) {
            // not there, or the lease's end takes it
        }
    }

    /** The container's snapshot mounted read-only on a temporary directory, on first read. */
    static final class RootFs implements AutoCloseable {
        private final SnapshotsClient sn;
        private final String key;
        private Path dir;

        RootFs(SnapshotsClient sn, String key) {
            this.sn = sn;
            this.key = key;
        }

        byte[] read(String path) throws IOException {
            if (dir == null) {
                Path d = Files.createTempDirectory("jctr-mount");
                try {
                    Mounter.mountAll(readonly(sn.mounts(key)), d);
                } catch (IOException | RuntimeException e) {
                    Files.deleteIfExists(d);
                    throw e;
                }
                dir = d;
            }
            // resolve inside the root only: a symlinked /etc/passwd must not reach the host
            Path p = dir.resolve(path.substring(1)).normalize();
            if (!p.startsWith(dir) || !Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) return null;
            return Files.readAllBytes(p);
        }

        @Override
        public void close() throws IOException {
            if (dir == null) return;
            Mounter.unmountAll(dir);
            Files.deleteIfExists(dir);
        }
    }

    /**
     * Mounts made read-only: an overlay's upper directory becomes its top lower directory (no work
     * directory in use), anything else gets "ro".
     */
    public static List<Mount> readonly(List<Mount> mounts) {
        List<Mount> out = new ArrayList<>();
        for (Mount m : mounts) {
            if (m.type().equals("overlay")) {
                String upper = null;
                String lower = null;
                List<String> opts = new ArrayList<>();
                for (String opt : m.options()) {
                    if (opt.startsWith("upperdir=")) upper = opt.substring("upperdir=".length());
                    else if (opt.startsWith("lowerdir=")) lower = opt.substring("lowerdir=".length());
                    else if (!opt.startsWith("workdir=")) opts.add(opt);
                }
                if (upper != null) {
                    opts.add("lowerdir=" + upper + (lower != null ? ":" + lower : ""));
                    out.add(new Mount(m.type(), m.source(), m.target(), opts));
                    continue;
                }
            }
            List<String> opts = new ArrayList<>(m.options());
            opts.add("ro");
            out.add(new Mount(m.type(), m.source(), m.target(), opts));
        }
        return out;
    }
}
