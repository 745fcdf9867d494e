package io.jcontainerd.client.images;

import io.jcontainerd.client.ClientException;
import io.jcontainerd.client.ContainerdClient;
import io.jcontainerd.client.ContentClient;
import io.jcontainerd.client.ContentReader;
import io.jcontainerd.client.platforms.Platforms;
import io.jcontainerd.client.remotes.RegistryClient;
import java.net.URI;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;

/**
 * Pushes an image from the content store to a registry: blobs first (in parallel, each skipped when
 * the registry has it, mounted from another repository of the same registry when a distribution
 * source label names one, else uploaded whole or in chunks), then manifests by digest, then the
 * root under the reference's tag.
 */
public final class ImagePusher {
    /** @param chunkSize 0 for monolithic uploads, else the PATCH chunk size */
    public record Options(Platforms.Matcher platforms, int chunkSize, int maxConcurrent, Progress progress) {
        public Options {
            platforms = platforms == null ? Platforms.all() : platforms;
            maxConcurrent = maxConcurrent <= 0 ? 3 : maxConcurrent;
            progress = progress == null ? Progress.NONE : progress;
        }

        public static Options defaults() {
            return new Options(null, 0, 3, null);
        }
    }

    private ImagePusher() {}

    public static void push(ContainerdClient client, RegistryClient registry, Descriptor root, Options options) {
        ContentClient content = client.content();
        List<Descriptor> manifests = new ArrayList<>();
        Set<Descriptor> blobs = new LinkedHashSet<>();
        collect(content, root, options.platforms(), manifests, blobs, true);
        String host = URI.create("dummy://" + registry.reference().domain()).getHost();
        String sourceKey = "containerd.io/distribution.source." + host;
        String repo = registry.reference().path();
        Semaphore uploads = new Semaphore(options.maxConcurrent());
        try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
            List<CompletableFuture<Void>> fs = blobs.stream().map(b -> CompletableFuture.runAsync(() -> {
                uploads.acquireUninterruptibly();
                try {
                    pushBlob(content, registry, b, sourceKey, repo, options);
                } finally {
                    uploads.release();
                }
            }, ex)).toList();
            try {
                CompletableFuture.allOf(fs.toArray(CompletableFuture[]::new)).join();
            } catch (CompletionException e) {
                throw e.getCause() instanceof RuntimeException r ? r : e;
            }
        }
        // children before parents: collect() added them in post-order
        for (Descriptor m : manifests) {
            byte[] body = content.read(m.digest());
            boolean isRoot = m.digest().equals(root.digest());
            String object = isRoot && registry.reference().tag() != null ? registry.reference().tag() : m.digest();
            options.progress().update(m, Progress.State.UPLOADING, 0);
            registry.pushManifest(object, m, body);
            options.progress().update(m, Progress.State.DONE, m.size());
            addSource(content, m, sourceKey, repo);
        }
    }

    /** Manifests/indexes in post-order into {@code manifests}; configs and layers into {@code blobs}. */
    private static void collect(ContentClient content, Descriptor d, Platforms.Matcher m, List<Descriptor> manifests,
                                Set<Descriptor> blobs, boolean root) {
        if (MediaTypes.isIndex(d.mediaType())) {
            for (Descriptor c : Manifests.index(content.read(d.digest())).manifests()) {
                if (c.platform() != null && !m.match(c.platform())) continue;
                // a pull of one platform leaves the others out: push what is here
                if (!content.exists(c.digest())) continue;
                collect(content, c, m, manifests, blobs, false);
            }
            manifests.add(d);
        } else if (MediaTypes.isManifest(d.mediaType())) {
            Manifests.Manifest man = Manifests.manifest(content.read(d.digest()));
            blobs.add(plain(man.config()));
            for (Descriptor l : man.layers()) if (!MediaTypes.isNonDistributable(l.mediaType())) blobs.add(plain(l));
            manifests.add(d);
        } else {
            throw ClientException.invalidArgument("cannot push %s: unsupported media type %s", d.digest(), d.mediaType());
        }
    }

    private static Descriptor plain(Descriptor d) {
        return new Descriptor(d.mediaType(), d.digest(), d.size());
    }

    private static void pushBlob(ContentClient content, RegistryClient registry, Descriptor d, String sourceKey, String repo,
                                 Options options) {
        Map<String, String> labels = content.info(d.digest()).labels();
        String from = mountCandidate(labels.get(sourceKey), repo);
        options.progress().update(d, Progress.State.UPLOADING, 0);
        try (ContentReader r = content.reader(d.digest())) {
            registry.pushBlob(d, () -> r.stream(0, 0), from, options.chunkSize());
        }
        options.progress().update(d, Progress.State.DONE, d.size());
        addSource(content, d, sourceKey, repo);
    }

    /** The source repository sharing the longest path prefix with the target (as containerd picks one). */
    static String mountCandidate(String sources, String target) {
        if (sources == null || sources.isEmpty()) return null;
        String best = null;
        int bestScore = -1;
        List<String> t = Arrays.asList(target.split("/"));
        for (String s : sources.split(",")) {
            if (s.equals(target)) continue;
            List<String> p = Arrays.asList(s.split("/"));
            int score = 0;
            while (score < Math.min(p.size(), t.size()) && p.get(score).equals(t.get(score))) score++;
            if (score > bestScore) {
                best = s;
                bestScore = score;
            }
        }
        return best;
    }

    private static void addSource(ContentClient content, Descriptor d, String key, String repo) {
        String existing = content.info(d.digest()).labels().get(key);
        TreeSet<String> repos = new TreeSet<>();
        if (existing != null && !existing.isEmpty()) repos.addAll(Arrays.asList(existing.split(",")));
        if (!repos.add(repo)) return;
        String value = String.join(",", repos);
        if (key.length() + value.length() <= 4096) content.setLabel(d.digest(), key, value);
    }
}
