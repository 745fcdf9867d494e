package io.jcontainerd.client.cli;

import io.jcontainerd.client.FieldPaths;
import io.jcontainerd.client.ClientException;
import io.jcontainerd.client.ContainerdClient;
import io.jcontainerd.client.ContentClient;
import io.jcontainerd.client.ImagesClient;
import io.jcontainerd.client.archive.Exporter;
import io.jcontainerd.client.archive.Importer;
import io.jcontainerd.client.images.Descriptor;
import io.jcontainerd.client.images.ImagePuller;
import io.jcontainerd.client.images.ImagePusher;
import io.jcontainerd.client.images.Images;
import io.jcontainerd.client.images.Manifests;
import io.jcontainerd.client.images.MediaTypes;
import io.jcontainerd.client.images.Progress;
import io.jcontainerd.client.platforms.Platform;
import io.jcontainerd.client.platforms.Platforms;
import io.jcontainerd.client.reference.Reference;
import io.jcontainerd.client.remotes.Credentials;
import io.jcontainerd.client.remotes.RegistryClient;
import java.io.BufferedOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code jctr images ...}. */
@Command(name = "images", aliases = {"image", "i"}, description = "manage images",
        subcommands = {ImagesCmd.Ls.class, ImagesCmd.Pull.class, ImagesCmd.Push.class, ImagesCmd.Import.class,
                ImagesCmd.Export.class, ImagesCmd.Rm.class, ImagesCmd.Tag.class, ImagesCmd.Label.class, ImagesCmd.Check.class,
                ImagesCmd.MountCmd.class, ImagesCmd.Unmount.class})
final class ImagesCmd extends Misc.Group {

    /** Registry flags shared by pull and push, as ctr spells them. */
    static final class RegistryFlags {
        @Option(names = "--plain-http", description = "allow connections using plain HTTP")
        boolean plainHttp;

        @Option(names = {"-u", "--user"}, description = "user[:password] Registry user and password")
        String user;

        @Option(names = {"-k", "--skip-verify"}, description = "skip SSL certificate validation")
        boolean skipVerify;

        @Option(names = "--hosts-dir", description = "custom hosts configuration directory", defaultValue = "/etc/containerd/certs.d")
        Path hostsDir;

        RegistryClient.Options options() {
            Credentials c = user != null ? Credentials.parseUser(user) : Credentials.dockerConfig();
            return RegistryClient.Options.defaults().withHostsDir(hostsDir).withPlainHttp(plainHttp).withSkipVerify(skipVerify)
                    .withCredentials(c);
        }
    }

    static String snapshotter(Misc.Base cmd, String flag) {
        return flag != null ? flag : cmd.root().env.getOrDefault("CONTAINERD_SNAPSHOTTER", "overlayfs");
    }

    static Platforms.Matcher matcher(List<String> platforms) {
        if (platforms == null || platforms.isEmpty()) return Platforms.defaultMatcher();
        List<Platform> ps = platforms.stream().map(Platforms::parse).toList();
        return ps.size() == 1 ? Platforms.only(ps.getFirst()) : Platforms.ordered(ps);
    }

    @Command(name = "list", aliases = "ls", description = "list images known to containerd")
    static final class Ls extends Misc.Base {
        @Option(names = {"-q", "--quiet"}, description = "print only the image refs")
        boolean quiet;

        @Parameters(description = "filters")
        List<String> filters = new ArrayList<>();

        @Override
        void run() {
            List<ImagesClient.Image> imgs = client().images().list(filters.toArray(String[]::new));
            if (quiet) {
                imgs.forEach(i -> out().println(i.name()));
                return;
            }
            ContentClient content = client().content();
            Table t = new Table(1, 1).row("REF", "TYPE", "DIGEST", "SIZE", "PLATFORMS", "LABELS");
            for (ImagesClient.Image i : imgs) {
                String size;
                String platforms;
                try {
                    size = Table.bytes(Images.check(content, i.target(), Platforms.defaultMatcher()).size());
                    platforms = String.join(",", Images.platforms(content, i.target()).stream().map(Object::toString).toList());
                } catch (ClientException e) {
                    size = "-";
                    platforms = "-";
                }
                t.row(i.name(), i.target().mediaType(), i.target().digest(), size, platforms, Table.labels(i.labels()));
            }
            t.print(out());
        }
    }

    @Command(name = "check", description = "check existing images to ensure all content is available locally")
    static final class Check extends Misc.Base {
        @Option(names = {"-q", "--quiet"}, description = "print only the ready image refs")
        boolean quiet;

        @Option(names = "--snapshotter")
        String snapshotter;

        @Parameters(description = "filters")
        List<String> filters = new ArrayList<>();

        @Override
        void run() {
            ContentClient content = client().content();
            String sn = snapshotter(this, snapshotter);
            Table t = new Table(1, 1).row("REF", "TYPE", "DIGEST", "STATUS", "SIZE", "UNPACKED");
            for (ImagesClient.Image i : client().images().list(filters.toArray(String[]::new))) {
                String status;
                String size;
                boolean unpacked = false;
                try {
                    Images.Check c = Images.check(content, i.target(), Platforms.defaultMatcher());
                    long required = c.required().stream().mapToLong(Descriptor::size).sum();
                    status = (c.complete() ? "complete" : "incomplete") + " (" + c.present().size() + "/" + c.required().size() + ")";
                    size = Table.bytes(c.size()) + "/" + Table.bytes(required);
                    if (c.complete()) {
                        String chain = Images.resolve(content, i.target(), Platforms.defaultMatcher()).chainId();
                        unpacked = client().snapshots(sn).exists(chain);
                    }
                    if (quiet && c.complete()) out().println(i.name());
                } catch (ClientException e) {
                    status = "error";
                    size = "-";
                }
                t.row(i.name(), i.target().mediaType(), i.target().digest(), status, size, unpacked);
            }
            if (!quiet) t.print(out());
        }
    }

    @Command(name = "pull", description = "pull an image from a remote")
    static final class Pull extends Misc.Base {
        @picocli.CommandLine.Mixin
        RegistryFlags registry = new RegistryFlags();

        @Option(names = "--snapshotter", description = "snapshotter name (env CONTAINERD_SNAPSHOTTER)")
        String snapshotter;

        @Option(names = "--platform", description = "pull content from a specific platform")
        List<String> platforms = new ArrayList<>();

        @Option(names = "--all-platforms", description = "pull content and metadata from all platforms")
        boolean allPlatforms;

        @Option(names = "--no-unpack", description = "only fetch the content")
        boolean noUnpack;

        @Option(names = "--max-concurrent-downloads", description = "parallel blob downloads", defaultValue = "3")
        int maxConcurrent;

        @Option(names = "--label", description = "labels to attach to the image (k=v)")
        List<String> labels = new ArrayList<>();

        @Option(names = "--print-chainid", description = "print the resulting image's chain ID")
        boolean printChainId;

        @Parameters(index = "0", paramLabel = "<ref>")
        String ref;

        @Override
        void run() throws Exception {
            Reference r = Reference.parse(ref);
            long start = System.nanoTime();
            ProgressPrinter pp = new ProgressPrinter(out(), r.toString());
            Platforms.Matcher m = allPlatforms ? Platforms.all() : matcher(platforms);
            ImagePuller.Options o = new ImagePuller.Options(m, allPlatforms, !noUnpack, snapshotter(this, snapshotter),
                    maxConcurrent, Jctr.labels(labels), pp, null, null);
            ImagesClient.Image img;
            try {
                img = ImagePuller.pull(client(), RegistryClient.of(r, registry.options()), o);
            } finally {
                pp.stop();
            }
            if (!noUnpack) {
                Images.Resolved res = Images.resolve(client().content(), img.target(), m);
                out().println("unpacked " + res.platform() + " " + img.target().digest());
                if (printChainId) out().println("image chain ID: " + res.chainId());
            }
            out().printf("done: %.3fs%n", (System.nanoTime() - start) / 1e9);
        }
    }

    @Command(name = "push", description = "push an image to a remote")
    static final class Push extends Misc.Base {
        @picocli.CommandLine.Mixin
        RegistryFlags registry = new RegistryFlags();

        @Option(names = "--platform", description = "push content from a specific platform")
        List<String> platforms = new ArrayList<>();

        @Option(names = "--chunk-size", description = "upload in chunks of this many bytes (0: one request)", defaultValue = "0")
        int chunkSize;

        @Option(names = "--max-concurrent-uploaded-layers", defaultValue = "3")
        int maxConcurrent;

        @Parameters(index = "0", paramLabel = "<remote>")
        String remote;

        @Parameters(index = "1", arity = "0..1", paramLabel = "<local>")
        String local;

        @Override
        void run() {
            Reference r = Reference.parse(remote);
            String name = local != null ? local : r.toString();
            ImagesClient.Image img = client().images().get(name);
            ProgressPrinter pp = new ProgressPrinter(out(), r.toString());
            try {
                ImagePusher.push(client(), RegistryClient.of(r, registry.options()), img.target(),
                        new ImagePusher.Options(platforms.isEmpty() ? Platforms.all() : matcher(platforms), chunkSize, maxConcurrent, pp));
            } finally {
                pp.stop();
            }
            out().println("pushed " + r + " " + img.target().digest());
        }
    }

    @Command(name = "import", description = "import images")
    static final class Import extends Misc.Base {
        @Option(names = "--base-name", description = "base image name for added images, when provided only images with this name prefix are imported")
        String baseName;

        @Option(names = "--index-name", description = "image name to keep index as, by default index is discarded")
        String indexName;

        @Option(names = "--all-platforms", description = "imports content for all platforms")
        boolean allPlatforms;

        @Option(names = "--platform", description = "imports content for a specific platform")
        List<String> platforms = new ArrayList<>();

        @Option(names = "--no-unpack", description = "skip unpacking the images")
        boolean noUnpack;

        @Option(names = "--snapshotter")
        String snapshotter;

        @Option(names = "--label")
        List<String> labels = new ArrayList<>();

        @Parameters(index = "0", paramLabel = "<in>", description = "archive file, or - for stdin")
        String in;

        @Override
        void run() throws Exception {
            Platforms.Matcher m = allPlatforms ? Platforms.all() : matcher(platforms);
            Importer.Options o = new Importer.Options(m, allPlatforms, !noUnpack, snapshotter(this, snapshotter), baseName, indexName,
                    Jctr.labels(labels), null);
            List<ImagesClient.Image> imgs;
            try (InputStream s = in.equals("-") ? System.in : Files.newInputStream(Path.of(in))) {
                imgs = Importer.importArchive(client(), s, o);
            }
            for (ImagesClient.Image i : imgs) {
                out().println((noUnpack ? "imported " : "unpacked ") + i.name() + " (" + i.target().digest() + ")...done");
            }
        }
    }

    @Command(name = "export", description = "export images")
    static final class Export extends Misc.Base {
        @Option(names = "--all-platforms", description = "exports content from all platforms")
        boolean allPlatforms;

        @Option(names = "--platform", description = "export content from a specific platform")
        List<String> platforms = new ArrayList<>();

        @Option(names = "--skip-manifest-json", description = "do not add Docker compatible manifest.json to archive")
        boolean skipManifestJson;

        @Parameters(index = "0", paramLabel = "<out>", description = "archive file, or - for stdout")
        String outFile;

        @Parameters(index = "1..*", arity = "1..*", paramLabel = "<image>")
        List<String> images;

        @Override
        void run() throws Exception {
            Exporter.Options o = new Exporter.Options(matcher(platforms), allPlatforms, !skipManifestJson);
            if (outFile.equals("-")) {
                OutputStream os = new BufferedOutputStream(System.out, 1 << 16);
                Exporter.export(client(), images, os, o);
                os.flush();
                return;
            }
            Path tmp = Path.of(outFile + ".tmp");
            try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16)) {
                Exporter.export(client(), images, os, o);
            } catch (Exception e) {
                Files.deleteIfExists(tmp);
                throw e;
            }
            Files.move(tmp, Path.of(outFile), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
    }

    @Command(name = "delete", aliases = {"del", "remove", "rm"}, description = "remove one or more images by reference")
    static final class Rm extends Misc.Base {
        @Option(names = "--sync", description = "synchronously remove image and all associated resources")
        boolean sync;

        @Parameters(arity = "1..*")
        List<String> names;

        @Override
        void run() {
            ClientException first = null;
            for (String n : names) {
                try {
                    client().images().delete(n, sync);
                    out().println(n);
                } catch (ClientException e) {
                    if (first == null) first = e;
                    root().err.println("jctr: unable to delete " + n + ": " + e.getMessage());
                }
            }
            if (first != null) throw first;
        }
    }

    @Command(name = "tag", description = "tag an image")
    static final class Tag extends Misc.Base {
        @Option(names = "--force", description = "force target_ref to be created, regardless if it already exists")
        boolean force;

        @Parameters(index = "0", paramLabel = "<source_ref>")
        String source;

        @Parameters(index = "1..*", arity = "1..*", paramLabel = "<target_ref>")
        List<String> targets;

        @Override
        void run() {
            ImagesClient.Image src = client().images().get(source);
            for (String t : targets) {
                ImagesClient.Image img = new ImagesClient.Image(t, src.labels(), src.target(), null, null);
                try {
                    client().images().create(img);
                } catch (ClientException e) {
                    if (!e.isAlreadyExists() || !force) throw e;
                    client().images().delete(t, false);
                    client().images().create(img);
                }
                out().println(t);
            }
        }
    }

    @Command(name = "label", description = "set and clear labels for an image")
    static final class Label extends Misc.Base {
        @Option(names = "--replace-all", description = "replace all labels")
        boolean replaceAll;

        @Parameters(index = "0")
        String name;

        @Parameters(index = "1..*")
        List<String> labels = new ArrayList<>();

        @Override
        void run() {
            Map<String, String> all = Jctr.labels(labels);
            Map<String, String> set = new LinkedHashMap<>(all);
            set.values().removeIf(String::isEmpty);
            ImagesClient.Image img = client().images().get(name);
            String[] fields = replaceAll ? new String[] {"labels"} : FieldPaths.labels(all.keySet());
            ImagesClient.Image updated = client().images().update(new ImagesClient.Image(name, set, img.target(), null, null), fields);
            out().println(Table.labels(updated.labels()));
        }
    }

    /**
     * Pull/push progress: on a terminal, a table redrawn in place (ref, state, bytes); otherwise one
     * line per state change.
     */
    @Command(name = "mount", description = "mount an image to a target path")
    static final class MountCmd extends Misc.Base {
        @Option(names = "--snapshotter", description = "snapshotter name (env CONTAINERD_SNAPSHOTTER)")
        String snapshotter;

        @Option(names = "--rw", description = "Enable write support on the mount")
        boolean rw;

        @Option(names = "--platform", description = "Mount the image for the specified platform")
        String platform;

        @Parameters(index = "0", paramLabel = "<ref>")
        String ref;

        @Parameters(index = "1", paramLabel = "<target>")
        String target;

        @Override
        void run() throws Exception {
            String sn = snapshotter(this, snapshotter);
            ContainerdClient c = client();
            // a lease named after the target holds the snapshot until unmount --rm (or a day passes)
            try {
                c.leases().create(target, Map.of(ContainerdClient.LEASE_EXPIRE_LABEL,
                        java.time.Instant.now().plus(java.time.Duration.ofHours(24)).truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString(),
                        "containerd.io/gc.ref.snapshot." + sn, target));
            } catch (ClientException e) {
                if (!e.isAlreadyExists()) throw e;
            }
            ContainerdClient leased = c.withLease(target);
            boolean ok = false;
            try {
                ImagesClient.Image img = leased.images().get(ref);
                Platforms.Matcher m = platform == null ? Platforms.defaultMatcher() : Platforms.only(Platforms.parse(platform));
                Images.Resolved res = Images.resolve(leased.content(), img.target(), m);
                String chainId = io.jcontainerd.client.images.Unpacker.unpack(leased, res, sn, Progress.NONE);
                out().println(chainId);
                out().flush();
                var snaps = leased.snapshots(sn);
                List<io.jcontainerd.client.Mount> mounts;
                try {
                    mounts = rw ? snaps.prepare(target, chainId, Map.of()) : snaps.view(target, chainId, Map.of());
                } catch (ClientException e) {
                    if (!e.isAlreadyExists()) throw e;
                    mounts = snaps.mounts(target);
                }
                try {
                    io.jcontainerd.client.sys.Mounter.mountAll(mounts, Path.of(target));
                } catch (java.io.IOException | RuntimeException e) {
                    try {
                        snaps.remove(target);
                    } catch (ClientException cleanup) {
                        if (!cleanup.isNotFound()) root().err.println("Error cleaning up snapshot after mount error: " + cleanup.getMessage());
                    }
                    throw e;
                }
                out().println(target);
                ok = true;
            } finally {
                if (!ok) {
                    try {
                        c.leases().delete(target, false);
                    } catch (ClientException ignored) {
                        // already gone
                    }
                }
            }
        }
    }

    @Command(name = "unmount", description = "unmount the image from the target")
    static final class Unmount extends Misc.Base {
        @Option(names = "--snapshotter", description = "snapshotter name (env CONTAINERD_SNAPSHOTTER)")
        String snapshotter;

        @Option(names = "--rm", description = "remove the snapshot after a successful unmount")
        boolean rm;

        @Parameters(index = "0", paramLabel = "<target>")
        String target;

        @Override
        void run() throws Exception {
            io.jcontainerd.client.sys.Mounter.unmountAll(Path.of(target));
            if (rm) {
                try {
                    client().leases().delete(target, false);
                } catch (ClientException e) {
                    if (!e.isNotFound()) throw new ClientException(e.code(), "error deleting lease: " + e.getMessage(), e);
                }
                try {
                    client().snapshots(snapshotter(this, snapshotter)).remove(target);
                } catch (ClientException e) {
                    if (!e.isNotFound()) throw new ClientException(e.code(), "error removing snapshot: " + e.getMessage(), e);
                }
            }
            out().println(target);
        }
    }

    static final class ProgressPrinter implements Progress {
        private final PrintWriter out;
        private final boolean tty = System.console() != null && System.console().isTerminal();
        private final Map<String, String[]> rows = new ConcurrentHashMap<>();
        private final Map<String, State> last = new ConcurrentHashMap<>();
        private final Thread ticker;
        private int drawn;

        ProgressPrinter(PrintWriter out, String ref) {
            this.out = out;
            out.println(ref + ": resolving");
            out.flush();
            ticker = tty ? Thread.ofVirtual().start(this::tick) : null;
        }

        @Override
        public void update(Descriptor d, State state, long offset) {
            String key = MediaTypes.refKey(d);
            rows.put(key, new String[] {key, state.name().toLowerCase(), Table.bytes(offset) + "/" + Table.bytes(d.size())});
            if (!tty && last.put(key, state) != state && state != State.WAITING) {
                synchronized (out) {
                    out.println(key + ": " + state.name().toLowerCase() + " |" + Table.bytes(offset) + "/" + Table.bytes(d.size()) + "|");
                    out.flush();
                }
            }
        }

        private void tick() {
            try {
                while (!Thread.currentThread().isInterrupted()) {
                    draw();
                    Thread.sleep(100);
                }
            } catch (InterruptedException e) {
                draw();
            }
        }

        private synchronized void draw() {
            if (drawn > 0) out.print("\033[" + drawn + "A");
            Table t = new Table(1, 2);
            rows.values().stream().sorted((a, b) -> a[0].compareTo(b[0])).forEach(r -> t.row((Object[]) r));
            java.io.StringWriter sw = new java.io.StringWriter();
            t.print(new PrintWriter(sw));
            String s = sw.toString();
            for (String line : s.split("\n")) out.println("\033[2K" + line);
            drawn = s.isEmpty() ? 0 : s.split("\n").length;
            out.flush();
        }

        void stop() {
            if (ticker != null) {
                ticker.interrupt();
                try {
                    ticker.join();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

}
