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

    /** A change to the spec after the options' own (ctr's later spec options, in ctr's order). */
    @FunctionalInterface
    public interface SpecOpt {
        void apply(Spec spec) throws IOException;
    }

    /** ctr --uidmap/--gidmap: a user namespace, its root file system shifted (or the mappings left to snapshotter labels). */
    public record UserNamespace(Spec.IdMapping uid, Spec.IdMapping gid, boolean remapLabels) {}

    /**
     * What ctr's run/create flags choose. Null lists and maps are empty; null strings take ctr's
     * defaults; {@code envFile} (null: none) comes before {@code env}; {@code platform} null is the
     * default platform; {@code runtimeOptions} null is ctr's (empty runc options for runc);
     * {@code specOpts} run after the others, before the labels become annotations.
     */
    public record Options(String image, String id, List<String> args, List<String> env, Map<String, String> labels,
                          String snapshotter, String runtime, List<Spec.Mount> mounts, boolean netHost, boolean tty,
                          boolean readOnly, String cwd, Path envFile, Platforms.Matcher platform,
                          Map<String, String> snapshotLabels, UserNamespace userns, Any runtimeOptions, List<SpecOpt> specOpts) {
        public Options {
            args = args == null ? List.of() : List.copyOf(args);
            env = env == null ? List.of() : List.copyOf(env);
            labels = labels == null ? Map.of() : Map.copyOf(labels);
            mounts = mounts == null ? List.of() : List.copyOf(mounts);
            snapshotter = snapshotter == null || snapshotter.isEmpty() ? "overlayfs" : snapshotter;
            runtime = runtime == null || runtime.isEmpty() ? DEFAULT_RUNTIME : runtime;
            snapshotLabels = snapshotLabels == null ? Map.of() : Map.copyOf(snapshotLabels);
            specOpts = specOpts == null ? List.of() : List.copyOf(specOpts);
        }

        public static Options of(String image, String id, List<String> args) {
            return new Options(image, id, args, null, null, null, null, null, false, false, false, null, null, null, null, null,
                    null, null);
        }
    }

    public static ContainersClient.Container create(ContainerdClient client, Options o) throws Exception {
        return client.withLease(Duration.ofHours(24), leased -> createLeased(leased, o));
    }

    @SuppressWarnings("unchecked")
    private static ContainersClient.Container createLeased(ContainerdClient client, Options o) throws IOException {
        ImagesClient.Image img = client.images().get(o.image());
        Images.Resolved resolved = Images.resolve(client.content(), img.target(),
                o.platform() == null ? Platforms.defaultMatcher() : o.platform());
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

        prepareSnapshot(sn, o, chainId);
        Spec spec;
        try (RootFs root = new RootFs(sn, o.id())) {
            spec = Spec.defaults(client.namespace(), o.id()).withDefaultUnixDevices();
            if (o.envFile() != null) spec.withEnvFile(o.envFile());
            spec.withEnv(o.env()).withMounts(o.mounts()).withImageConfig(cfgJson, List.of(), root::read);
            if (o.userns() != null) spec.withUserNamespace(o.userns().uid(), o.userns().gid());
            if (o.readOnly()) spec.withRootfsReadonly();
            if (!o.args().isEmpty()) spec.withProcessArgs(o.args());
            if (o.cwd() != null && !o.cwd().isEmpty()) spec.withCwd(o.cwd());
            if (o.tty()) spec.withTty();
            if (o.netHost()) spec.withHostNetwork(java.net.InetAddress.getLocalHost().getHostName());
            for (SpecOpt opt : o.specOpts()) opt.apply(spec);
            spec.withAnnotations(o.labels());
        } catch (IOException | RuntimeException e) {
            removeQuietly(sn, o.id());
            throw e;
        }
        Any runtimeOptions = o.runtimeOptions() != null ? o.runtimeOptions()
                : DEFAULT_RUNTIME.equals(o.runtime()) ? Any.newBuilder().setTypeUrl(RUNC_OPTIONS_TYPE).build() : null;
        var c = new ContainersClient.Container(o.id(), labels, img.name(), o.runtime(), runtimeOptions, spec.toAny(),
                o.snapshotter(), o.id(), null, null, Map.of());
        try {
            return client.containers().create(c);
        } catch (ClientException e) {
            removeQuietly(sn, o.id());
            throw e;
        }
    }

    /**
     * The container's writable snapshot on the image, as ctr makes it: plain (with the snapshot labels),
     * with the user namespace mappings as labels for the snapshotter to apply, or on a shared copy of
     * the image whose files are shifted to the mapped ids ({@code <chain id>-<uid>-<gid>}, made once).
     */
    private static void prepareSnapshot(SnapshotsClient sn, Options o, String chainId) throws IOException {
        UserNamespace u = o.userns();
        if (u == null) {
            sn.prepare(o.id(), chainId, o.snapshotLabels());
            return;
        }
        if (u.remapLabels()) {
            long size = u.uid().size();
            sn.prepare(o.id(), chainId, Map.of(
                    "containerd.io/snapshot/uidmapping", "0:" + u.uid().hostId() + ":" + size,
                    "containerd.io/snapshot/gidmapping", "0:" + u.gid().hostId() + ":" + size));
            return;
        }
        String shifted = chainId + "-" + u.uid().hostId() + "-" + u.gid().hostId();
        if (sn.exists(shifted)) {
            try {
                sn.prepare(o.id(), shifted, Map.of());
                return;
            } catch (ClientException e) {
                if (!e.isNotFound()) throw e;
            }
        }
        String work = shifted + "-remap";
        List<Mount> mounts = sn.prepare(work, chainId, Map.of());
        try {
            shiftOwners(mounts, u.uid().hostId(), u.gid().hostId());
            sn.commit(shifted, work, Map.of());
        } catch (IOException | RuntimeException e) {
            removeQuietly(sn, work);
            throw e;
        }
        sn.prepare(o.id(), shifted, Map.of());
    }

    /** Adds {@code uid}/{@code gid} to the owner of every file of the mounted tree, symlinks themselves included. */
    private static void shiftOwners(List<Mount> mounts, long uid, long gid) throws IOException {
        Path dir = Files.createTempDirectory("jctr-remap");
        try {
            Mounter.mountAll(mounts, dir);
            try (var walk = Files.walk(dir)) {
                for (Path p : (Iterable<Path>) walk::iterator) {
                    Map<String, Object> a = Files.readAttributes(p, "unix:uid,gid", java.nio.file.LinkOption.NOFOLLOW_LINKS);
                    int newUid = (int) (Integer.toUnsignedLong((Integer) a.get("uid")) + uid);
                    int newGid = (int) (Integer.toUnsignedLong((Integer) a.get("gid")) + gid);
                    Files.setAttribute(p, "unix:uid", newUid, java.nio.file.LinkOption.NOFOLLOW_LINKS);
                    Files.setAttribute(p, "unix:gid", newGid, java.nio.file.LinkOption.NOFOLLOW_LINKS);
                }
            } finally {
                Mounter.unmountAll(dir);
            }
        } finally {
            Files.deleteIfExists(dir);
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
