package io.jcontainerd.client.images;

import io.jcontainerd.client.FieldPaths;
import io.grpc.Status;
import io.jcontainerd.client.ClientException;
import io.jcontainerd.client.ContainerdClient;
import io.jcontainerd.client.ContentClient;
import io.jcontainerd.client.ContentWriter;
import io.jcontainerd.client.ImagesClient;
import io.jcontainerd.client.platforms.Platforms;
import io.jcontainerd.client.remotes.RegistryClient;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Pulls an image from a registry into containerd's content store the way containerd's client does:
 * under a lease, resolve, fetch the graph (blobs in parallel up to a limit, each verified and
 * resumable), label parents with {@code containerd.io/gc.ref.content.*} and every blob with its
 * {@code containerd.io/distribution.source.<host>}, optionally unpack layers as soon as their
 * parents are, and only then create or update the image record.
 */
public final class ImagePuller {
    /**
     * @param platforms       which manifests of an index to fetch (the best match only, unless allPlatforms)
     * @param unpack          unpack into {@code snapshotter} after (during) the fetch
     * @param maxConcurrent   parallel blob downloads
     * @param labels          labels of the image record
     */
    public record Options(Platforms.Matcher platforms, boolean allPlatforms, boolean unpack, String snapshotter,
                          int maxConcurrent, Map<String, String> labels, Progress progress, Duration leaseExpire,
                          Duration stallTimeout) {
        public Options {
            stallTimeout = stallTimeout == null ? Duration.ofSeconds(60) : stallTimeout;
            platforms = platforms == null ? Platforms.defaultMatcher() : platforms;
            snapshotter = snapshotter == null ? "overlayfs" : snapshotter;
            maxConcurrent = maxConcurrent <= 0 ? 3 : maxConcurrent;
            labels = labels == null ? Map.of() : Map.copyOf(labels);
            progress = progress == null ? Progress.NONE : progress;
            leaseExpire = leaseExpire == null ? Duration.ofHours(24) : leaseExpire;
        }

        public static Options defaults() {
            return new Options(null, false, true, null, 3, null, null, null, null);
        }

        public Options withUnpack(boolean u, String sn) {
            return new Options(platforms, allPlatforms, u, sn, maxConcurrent, labels, progress, leaseExpire, stallTimeout);
        }

        public Options withPlatforms(Platforms.Matcher m, boolean all) {
            return new Options(m, all, unpack, snapshotter, maxConcurrent, labels, progress, leaseExpire, stallTimeout);
        }

        public Options withProgress(Progress p) {
            return new Options(platforms, allPlatforms, unpack, snapshotter, maxConcurrent, labels, p, leaseExpire, stallTimeout);
        }

        /** A transfer making no progress for this long is broken off and resumed. */
        public Options withStallTimeout(Duration d) {
            return new Options(platforms, allPlatforms, unpack, snapshotter, maxConcurrent, labels, progress, leaseExpire, d);
        }

        public Options withMaxConcurrent(int n) {
            return new Options(platforms, allPlatforms, unpack, snapshotter, n, labels, progress, leaseExpire, stallTimeout);
        }
    }

    private static final int MAX_RESUMES = 5;

    private final ContainerdClient client;
    private final ContentClient content;
    private final RegistryClient registry;
    private final Options options;
    private final OrderedPermits downloads;
    /** Order in which the walk met each blob: downloads start in this order (layers bottom up). */
    private final Map<String, Long> order = new ConcurrentHashMap<>();
    private final java.util.concurrent.atomic.AtomicLong sequence = new java.util.concurrent.atomic.AtomicLong();
    private final Map<String, CompletableFuture<Void>> blobs = new ConcurrentHashMap<>();
    private final String sourceKey;
    private final String sourceRepo;
    private ExecutorService workers;

    private ImagePuller(ContainerdClient leased, RegistryClient registry, Options options) {
        this.client = leased;
        this.content = leased.content();
        this.registry = registry;
        this.options = options;
        this.downloads = new OrderedPermits(options.maxConcurrent());
        String host = URI.create("dummy://" + registry.reference().domain()).getHost();
        this.sourceKey = "containerd.io/distribution.source." + host;
        this.sourceRepo = registry.reference().path();
    }

    /** Pulls {@code registry.reference()}; returns the image record, created only once everything is in. */
    public static ImagesClient.Image pull(ContainerdClient client, RegistryClient registry, Options options) throws Exception {
        return client.withLease(options.leaseExpire(), leased -> new ImagePuller(leased, registry, options).run());
    }

    private ImagesClient.Image run() {
        Descriptor root = registry.resolve();
        if (!MediaTypes.isIndex(root.mediaType()) && !MediaTypes.isManifest(root.mediaType())) {
            throw ClientException.invalidArgument("%s: unsupported media type %s", registry.reference(), root.mediaType());
        }
        String name = registry.reference().toString();
        try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
            workers = ex;
            CompletableFuture<Void> fetched = walk(root);
            CompletableFuture<Void> unpacked = options.unpack()
                    ? CompletableFuture.runAsync(() -> unpack(root), ex)
                    : CompletableFuture.completedFuture(null);
            try {
                CompletableFuture.allOf(fetched, unpacked).join();
            } catch (CompletionException e) {
                throw unwrap(e);
            }
        }
        // a single-manifest image must still be for the wanted platform (its config says which)
        if (!options.allPlatforms()) Images.resolve(content, root, options.platforms());
        return client.images().createOrUpdate(new ImagesClient.Image(name, options.labels(), root, null, null));
    }

    private void unpack(Descriptor root) {
        await(root);
        Descriptor manifest = selectManifests(root).getFirst();
        await(manifest);
        Manifests.Manifest m = Manifests.manifest(content.read(manifest.digest()));
        await(m.config());
        Manifests.ImageConfig cfg = Manifests.config(content.read(m.config().digest()));
        if (manifest.platform() == null && !cfg.platform().os().isEmpty() && !options.platforms().match(cfg.platform())) {
            throw ClientException.notFound("%s: no match for platform in manifest %s (image is %s)", registry.reference(),
                    manifest.digest(), cfg.platform());
        }
        Unpacker.unpack(client, new Images.Resolved(manifest, m, m.config(), cfg), options.snapshotter(), options.progress(),
                this::blob);
    }

    /** The manifests to follow under {@code d}: itself, or the matching ones of an index (best only unless all). */
    private List<Descriptor> selectManifests(Descriptor d) {
        if (MediaTypes.isManifest(d.mediaType())) return List.of(d);
        List<Descriptor> ms = new ArrayList<>();
        for (Descriptor c : Manifests.index(content.read(d.digest())).manifests()) {
            if (c.platform() == null || options.platforms().match(c.platform())) ms.add(c);
        }
        if (ms.isEmpty()) throw ClientException.notFound("%s: no match for platform in manifest %s", registry.reference(), d.digest());
        ms.sort((a, b) -> a.platform() == null || b.platform() == null ? 0 : options.platforms().compare(a.platform(), b.platform()));
        if (!options.allPlatforms()) ms = List.of(ms.getFirst());
        List<Descriptor> out = new ArrayList<>();
        for (Descriptor c : ms) {
            if (MediaTypes.isIndex(c.mediaType())) {
                await(walk(c));
                out.addAll(selectManifests(c));
            } else {
                out.add(c);
            }
        }
        return out;
    }

    private void await(Descriptor d) {
        await(blob(d));
    }

    private static void await(CompletableFuture<?> f) {
        try {
            f.join();
        } catch (CompletionException e) {
            throw unwrap(e);
        }
    }

    private static RuntimeException unwrap(CompletionException e) {
        return e.getCause() instanceof RuntimeException r ? r : e;
    }

    /** Completes when {@code d}'s blob is committed (fetch started by the walk). */
    private CompletableFuture<Void> blob(Descriptor d) {
        return blobs.computeIfAbsent(d.digest(), k -> CompletableFuture.supplyAsync(() -> {
            fetch(d);
            return null;
        }, workers));
    }

    /** Fetches {@code d}, labels it, and walks its children; completes when the whole subtree is in. */
    private CompletableFuture<Void> walk(Descriptor d) {
        return blob(d).thenComposeAsync(v -> {
            List<Descriptor> children = children(d);
            setSourceLabel(d);
            return CompletableFuture.allOf(children.stream().map(this::walk).toArray(CompletableFuture[]::new));
        }, workers);
    }

    /** The children to fetch; the parent is labeled for all of them first, as containerd's SetChildrenMappedLabels does. */
    private List<Descriptor> children(Descriptor d) {
        if (MediaTypes.isManifest(d.mediaType())) {
            Manifests.Manifest m = Manifests.manifest(content.read(d.digest()));
            List<Descriptor> all = new ArrayList<>();
            all.add(m.config());
            all.addAll(m.layers());
            labelChildren(d, all);
            // config first, then layers bottom up: the unpack needs them in that order
            for (Descriptor c : all) order.putIfAbsent(c.digest(), sequence.incrementAndGet());
            return all.stream().filter(c -> !MediaTypes.isNonDistributable(c.mediaType())).toList();
        }
        if (MediaTypes.isIndex(d.mediaType())) {
            labelChildren(d, Manifests.index(content.read(d.digest())).manifests());
            return selectManifestsShallow(d);
        }
        if (MediaTypes.isConfig(d.mediaType()) || MediaTypes.isLayer(d.mediaType())) return List.of();
        throw ClientException.invalidArgument("%s: unsupported media type %s", registry.reference(), d.mediaType());
    }

    private List<Descriptor> selectManifestsShallow(Descriptor index) {
        List<Descriptor> ms = new ArrayList<>();
        for (Descriptor c : Manifests.index(content.read(index.digest())).manifests()) {
            if (c.platform() == null || options.platforms().match(c.platform())) ms.add(c);
        }
        if (ms.isEmpty()) throw ClientException.notFound("%s: no match for platform in manifest %s", registry.reference(), index.digest());
        ms.sort((a, b) -> a.platform() == null || b.platform() == null ? 0 : options.platforms().compare(a.platform(), b.platform()));
        return options.allPlatforms() ? ms : List.of(ms.getFirst());
    }

    /** GC references from a parent to its children: config, m.<i>, l.<i>, or a bare index for anything else. */
    static Map<String, String> childLabels(List<Descriptor> children) {
        Map<String, String> labels = new LinkedHashMap<>();
        Map<String, Integer> seen = new HashMap<>();
        for (Descriptor c : children) {
            String key = MediaTypes.childGcLabel(c.mediaType());
            int idx = seen.merge(key, 1, Integer::sum) - 1;
            if (idx > 0 || key.endsWith(".")) key = key + idx;
            labels.put(key, c.digest());
        }
        return labels;
    }

    private void labelChildren(Descriptor parent, List<Descriptor> children) {
        Map<String, String> labels = childLabels(children);
        if (labels.isEmpty()) return;
        content.update(parent.digest(), labels, FieldPaths.labels(labels.keySet()));
    }

    /** Adds this repository to the blob's distribution source label (sorted, no duplicates). */
    private void setSourceLabel(Descriptor d) {
        String existing = content.info(d.digest()).labels().get(sourceKey);
        TreeSet<String> repos = new TreeSet<>();
        if (existing != null && !existing.isEmpty()) repos.addAll(Arrays.asList(existing.split(",")));
        if (!repos.add(sourceRepo)) return;
        String value = String.join(",", repos);
        // labels are limited to 4096 bytes; a very popular blob just keeps what it has
        if (sourceKey.length() + value.length() > 4096) return;
        content.setLabel(d.digest(), sourceKey, value);
    }

    /** Writes the blob into content unless present, resuming a partial ingest and retrying broken transfers with Range. */
    private void fetch(Descriptor d) {
        Progress p = options.progress();
        if (content.exists(d.digest())) {
            p.update(d, Progress.State.EXISTS, d.size());
            return;
        }
        p.update(d, Progress.State.WAITING, 0);
        try {
            downloads.acquire(order.getOrDefault(d.digest(), 0L));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ClientException(Status.Code.CANCELLED, "interrupted");
        }
        try (ContentWriter w = content.writer(MediaTypes.refKey(d), d.size(), d.digest())) {
            long offset = w.offset();
            if (offset > d.size()) {
                w.truncate();
                offset = 0;
            }
            // no hashing here: the content store verifies the expected digest on commit (the whole blob,
            // resumed bytes included), and a second SHA-256 in this process was half of jctr's CPU
            byte[] buf = new byte[256 << 10];
            int resumes = 0;
            Watchdog dog = new Watchdog(Thread.currentThread(), options.stallTimeout());
            try {
            while (offset < d.size()) {
                p.update(d, Progress.State.DOWNLOADING, offset);
                try (InputStream in = registry.fetch(d, offset)) {
                    int n;
                    while (offset < d.size() && (n = in.read(buf, 0, (int) Math.min(buf.length, d.size() - offset))) > 0) {
                        w.write(buf, 0, n);
                        offset += n;
                        dog.progress();
                        p.update(d, Progress.State.DOWNLOADING, offset);
                    }
                    if (offset < d.size()) throw new IOException("unexpected end of stream at " + offset + " of " + d.size() + " bytes");
                } catch (IOException e) {
                    Thread.interrupted(); // a stalled read was interrupted by the watchdog: resume
                    if (++resumes > MAX_RESUMES) {
                        throw new ClientException(Status.Code.UNAVAILABLE, "fetching %s from %s: %s (truncated at %d of %d bytes)"
                                .formatted(d.digest(), registry.reference().domain(), e.getMessage(), offset, d.size()), e);
                    }
                    sleep(100L << Math.min(resumes, 5));
                    dog.progress();
                }
            }
            } finally {
                dog.stop();
            }
            try {
                w.commit(d.size(), d.digest(), Map.of());
            } catch (ClientException e) {
                if (e.isAlreadyExists()) return;
                w.close();
                abortQuietly(w.ref());
                if (e.isFailedPrecondition()) {
                    throw ClientException.failedPrecondition("digest mismatch for %s from %s: %s", d.digest(),
                            registry.reference().domain(), e.getMessage());
                }
                throw e;
            }
            p.update(d, Progress.State.DONE, d.size());
        } catch (ClientException e) {
            if (e.isAlreadyExists()) {
                p.update(d, Progress.State.EXISTS, d.size());
                return;
            }
            p.update(d, Progress.State.FAILED, 0);
            throw e;
        } finally {
            downloads.release();
        }
    }

    /**
     * Counting permits handed out lowest key first (FIFO among equal keys), so that whichever
     * virtual thread gets scheduled first, downloads start in the order the walk met the blobs.
     */
    static final class OrderedPermits {
        private record Waiter(long key, long seq, Thread thread) {}

        private final java.util.PriorityQueue<Waiter> waiters = new java.util.PriorityQueue<>(
                java.util.Comparator.comparingLong(Waiter::key).thenComparingLong(Waiter::seq));
        private int free;
        private long seq;

        OrderedPermits(int permits) {
            this.free = permits;
        }

        void acquire(long key) throws InterruptedException {
            Waiter me;
            synchronized (this) {
                if (free > 0 && waiters.isEmpty()) {
                    free--;
                    return;
                }
                me = new Waiter(key, seq++, Thread.currentThread());
                waiters.add(me);
                try {
                    while (!(free > 0 && waiters.peek() == me)) wait();
                } catch (InterruptedException e) {
                    waiters.remove(me);
                    notifyAll();
                    throw e;
                }
                waiters.poll();
                free--;
                if (free > 0 && !waiters.isEmpty()) notifyAll();
            }
        }

        synchronized void release() {
            free++;
            notifyAll();
        }
    }

    /**
     * Interrupts a download that has read nothing for the stall timeout: java.net.http has no read
     * timeout, and a registry that stops sending mid-body would otherwise hang the pull.
     */
    private static final class Watchdog {
        private final Thread worker;
        private final Thread dog;
        private volatile long last = System.nanoTime();
        private volatile boolean stopped;

        Watchdog(Thread worker, Duration timeout) {
            this.worker = worker;
            long limit = timeout.toNanos();
            this.dog = Thread.ofVirtual().start(() -> {
                while (!stopped) {
                    try {
                        Thread.sleep(Math.max(10, Math.min(1000, limit / 4_000_000)));
                    } catch (InterruptedException e) {
                        return;
                    }
                    if (!stopped && System.nanoTime() - last > limit) {
                        last = System.nanoTime();
                        worker.interrupt();
                    }
                }
            });
        }

        void progress() {
            last = System.nanoTime();
        }

        void stop() {
            stopped = true;
            dog.interrupt();
            Thread.interrupted();
        }
    }

    private void abortQuietly(String ref) {
        try {
            content.abort(ref);
        } catch (ClientException ignored) {
            // already gone, or still locked by the closing stream: the lease's collection takes it
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ClientException(Status.Code.CANCELLED, "interrupted");
        }
    }
}
