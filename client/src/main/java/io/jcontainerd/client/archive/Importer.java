package io.jcontainerd.client.archive;

import io.jcontainerd.client.FieldPaths;
import io.jcontainerd.client.ClientException;
import io.jcontainerd.client.ContainerdClient;
import io.jcontainerd.client.ContentClient;
import io.jcontainerd.client.ContentWriter;
import io.jcontainerd.client.ImagesClient;
import io.jcontainerd.client.Json;
import io.jcontainerd.client.images.Descriptor;
import io.jcontainerd.client.images.Images;
import io.jcontainerd.client.images.Manifests;
import io.jcontainerd.client.images.MediaTypes;
import io.jcontainerd.client.images.Progress;
import io.jcontainerd.client.images.Unpacker;
import io.jcontainerd.client.platforms.Platforms;
import io.jcontainerd.client.reference.InvalidReferenceException;
import io.jcontainerd.client.reference.Reference;
import io.jcontainerd.client.remotes.Digests;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;

/**
 * Imports image archives into containerd the way {@code ctr images import} does: OCI image layout
 * tarballs (oci-layout, index.json, blobs/) and {@code docker save} tarballs (manifest.json,
 * repositories, config and layer files), gzip-compressed or not, with several images each. Blobs
 * stream into the content store under a lease; docker images get Docker schema 2 manifests;
 * parents are labeled for GC; images are named from {@code io.containerd.image.name}, an OCI
 * {@code org.opencontainers.image.ref.name} that is a full reference (or base name + tag), or
 * RepoTags; then optionally unpacked.
 */
public final class Importer {
    public static final String IMAGE_NAME_ANNOTATION = "io.containerd.image.name";
    public static final String REF_NAME_ANNOTATION = "org.opencontainers.image.ref.name";
    private static final int SMALL_LIMIT = 16 << 20;

    /**
     * @param baseName  repository for OCI entries whose ref.name is only a tag (null: such entries get no name)
     * @param indexName also name the archive's index with this (null: not)
     */
    public record Options(Platforms.Matcher platforms, boolean allPlatforms, boolean unpack, String snapshotter,
                          String baseName, String indexName, Map<String, String> labels, Progress progress) {
        public Options {
            platforms = platforms == null ? Platforms.defaultMatcher() : platforms;
            snapshotter = snapshotter == null ? "overlayfs" : snapshotter;
            labels = labels == null ? Map.of() : Map.copyOf(labels);
            progress = progress == null ? Progress.NONE : progress;
        }

        public static Options defaults() {
            return new Options(null, false, true, null, null, null, null, null);
        }

        public Options withUnpack(boolean u, String sn) {
            return new Options(platforms, allPlatforms, u, sn, baseName, indexName, labels, progress);
        }
    }

    private final ContainerdClient client;
    private final ContentClient content;
    private final Options options;
    private final Map<String, Descriptor> files = new HashMap<>();
    private final Map<String, String> symlinks = new HashMap<>();
    private final Map<String, byte[]> small = new HashMap<>();

    private Importer(ContainerdClient leased, Options options) {
        this.client = leased;
        this.content = leased.content();
        this.options = options;
    }

    /** Imports the archive read from {@code in}; returns the images created or updated. */
    public static List<ImagesClient.Image> importArchive(ContainerdClient client, InputStream in, Options options) throws Exception {
        return client.withLease(Duration.ofHours(24), leased -> new Importer(leased, options).run(in));
    }

    private List<ImagesClient.Image> run(InputStream raw) throws IOException {
        BufferedInputStream buf = new BufferedInputStream(raw, 1 << 16);
        buf.mark(4);
        int b0 = buf.read();
        int b1 = buf.read();
        buf.reset();
        InputStream in = b0 == 0x1f && b1 == 0x8b ? new GZIPInputStream(buf, 1 << 16) : buf;
        TarReader tar = new TarReader(in);
        for (TarReader.Entry e; (e = tar.next()) != null; ) {
            if (e.isSymlink()) {
                symlinks.put(e.name(), resolveLink(e.name(), e.linkName()));
            } else if (e.isFile()) {
                readFile(e, tar.data());
            }
        }
        Map<String, Descriptor> named = new LinkedHashMap<>();
        Descriptor indexDesc = null;
        if (small.containsKey("index.json")) {
            byte[] idx = small.get("index.json");
            indexDesc = new Descriptor(MediaTypes.OCI_INDEX, Digests.sha256(idx), idx.length);
            content.write("tar-index.json", idx, indexDesc.digest(), Map.of());
            for (Descriptor m : Manifests.index(idx).manifests()) {
                String name = imageName(m.annotations());
                if (name != null) named.put(name, m);
            }
        } else if (small.containsKey("manifest.json")) {
            named.putAll(dockerImages(small.get("manifest.json")));
        } else {
            throw ClientException.invalidArgument("not an image archive: no index.json or manifest.json");
        }
        for (Descriptor target : new LinkedHashMap<>(named).values()) labelTree(target, true);
        if (options.indexName() != null && indexDesc != null) named.put(options.indexName(), indexDesc);
        List<ImagesClient.Image> out = new ArrayList<>();
        for (var e : named.entrySet()) {
            out.add(client.images().createOrUpdate(new ImagesClient.Image(e.getKey(), options.labels(), e.getValue(), null, null)));
        }
        if (options.unpack()) {
            for (var e : named.entrySet()) {
                if (e.getKey().equals(options.indexName())) continue;
                Images.Resolved r = Images.resolve(content, e.getValue(), options.platforms());
                Unpacker.unpack(client, r, options.snapshotter(), options.progress());
            }
        }
        return out;
    }

    private String imageName(Map<String, String> a) {
        String name = a.get(IMAGE_NAME_ANNOTATION);
        if (name != null && !name.isEmpty()) return name;
        String ref = a.get(REF_NAME_ANNOTATION);
        if (ref == null || ref.isEmpty()) return null;
        if (options.baseName() != null) return options.baseName() + ":" + ref;
        // a full reference as skopeo's oci-archive writes; a bare tag cannot name an image on its own
        if (ref.contains("/") || ref.contains(".")) {
            try {
                return Reference.parse(ref).toString();
            } catch (InvalidReferenceException notARef) {
                return null;
            }
        }
        return null;
    }

    private void readFile(TarReader.Entry e, InputStream data) throws IOException {
        String name = e.name();
        boolean isBlob = name.startsWith("blobs/") && name.chars().filter(c -> c == '/').count() == 2;
        if (!isBlob && (name.equals("index.json") || name.equals("manifest.json") || name.equals("oci-layout")
                || name.equals("repositories"))) {
            if (e.size() > SMALL_LIMIT) throw ClientException.invalidArgument("%s is too large (%d bytes)", name, e.size());
            small.put(name, data.readAllBytes());
            return;
        }
        String expected = null;
        if (isBlob) {
            String[] parts = name.split("/");
            expected = parts[1] + ":" + parts[2];
            try {
                Reference.validateDigest(expected);
            } catch (InvalidReferenceException bad) {
                throw ClientException.invalidArgument("archive blob %s: not a valid digest path", name);
            }
        }
        files.put(name, writeBlob(name, e.size(), data, expected));
    }

    /** Streams one file into content; returns its descriptor (media type guessed for docker layers). */
    private Descriptor writeBlob(String name, long size, InputStream data, String expected) throws IOException {
        BufferedInputStream in = new BufferedInputStream(data, 1 << 16);
        in.mark(8);
        byte[] magic = in.readNBytes(4);
        in.reset();
        String mediaType = layerTypeFor(magic);
        if (expected != null && content.exists(expected)) return new Descriptor(mediaType, expected, size);
        // a blob named by its digest is verified by the content store on commit; only unnamed files
        // (docker archives' layer.tar) are hashed here, to learn their digest
        MessageDigest md = expected == null ? Digests.hasher("sha256:") : null;
        String ref = "tar-" + name;
        try (ContentWriter w = content.writer(ref, size, expected)) {
            if (w.offset() == size && expected != null) {
                w.commit(size, expected, Map.of());
                return new Descriptor(mediaType, expected, size);
            }
            if (w.offset() > 0) w.truncate();
            byte[] buf = new byte[1 << 20];
            long total = 0;
            for (int n; (n = in.readNBytes(buf, 0, buf.length)) > 0; ) {
                w.write(buf, 0, n);
                if (md != null) md.update(buf, 0, n);
                total += n;
            }
            if (total != size) throw ClientException.invalidArgument("archive entry %s is truncated: %d of %d bytes", name, total, size);
            String digest = md == null ? expected : Digests.of(md, "sha256:");
            try {
                w.commit(size, digest, Map.of());
            } catch (ClientException ce) {
                if (ce.isFailedPrecondition() && expected != null) {
                    throw ClientException.failedPrecondition("archive blob %s does not match its digest: %s", name, ce.getMessage());
                }
                if (!ce.isAlreadyExists()) throw ce;
            }
            return new Descriptor(mediaType, digest, size);
        } catch (ClientException ce) {
            if (ce.isAlreadyExists() && expected != null) return new Descriptor(mediaType, expected, size);
            throw ce;
        }
    }

    private static String layerTypeFor(byte[] magic) {
        if (magic.length >= 2 && (magic[0] & 0xff) == 0x1f && (magic[1] & 0xff) == 0x8b) return MediaTypes.DOCKER_LAYER_GZIP;
        if (magic.length >= 4 && (magic[0] & 0xff) == 0x28 && (magic[1] & 0xff) == 0xb5 && (magic[2] & 0xff) == 0x2f
                && (magic[3] & 0xff) == 0xfd) return MediaTypes.OCI_LAYER_ZSTD;
        return MediaTypes.DOCKER_LAYER;
    }

    private static String resolveLink(String name, String link) {
        if (link.startsWith("/")) return link.substring(1);
        int slash = name.lastIndexOf('/');
        String dir = slash < 0 ? "" : name.substring(0, slash);
        List<String> parts = new ArrayList<>(dir.isEmpty() ? List.of() : List.of(dir.split("/")));
        for (String p : link.split("/")) {
            if (p.equals("..")) {
                if (!parts.isEmpty()) parts.removeLast();
            } else if (!p.equals(".") && !p.isEmpty()) {
                parts.add(p);
            }
        }
        return String.join("/", parts);
    }

    private Descriptor file(String name) {
        String n = name;
        for (int i = 0; i < 8 && symlinks.containsKey(n); i++) n = symlinks.get(n);
        Descriptor d = files.get(n);
        if (d == null) throw ClientException.invalidArgument("archive entry %s not found", name);
        return d;
    }

    /** Docker schema 2 manifests for a docker-save manifest.json, keyed by each RepoTag (normalised). */
    private Map<String, Descriptor> dockerImages(byte[] manifestJson) {
        Map<String, Descriptor> out = new LinkedHashMap<>();
        Object parsed = Json.parse(manifestJson);
        if (!(parsed instanceof List<?> entries)) throw ClientException.invalidArgument("manifest.json: expected an array");
        for (Object o : entries) {
            if (!(o instanceof Map<?, ?> raw)) continue;
            @SuppressWarnings("unchecked")
            Map<String, Object> entry = (Map<String, Object>) raw;
            Descriptor cfgFile = file(String.valueOf(entry.get("Config")));
            Descriptor config = new Descriptor(MediaTypes.DOCKER_CONFIG, cfgFile.digest(), cfgFile.size());
            List<Map<String, Object>> layers = new ArrayList<>();
            for (Object l : Json.arr(entry, "Layers")) layers.add(file(String.valueOf(l)).toJson());
            Map<String, Object> manifest = new LinkedHashMap<>();
            manifest.put("schemaVersion", 2L);
            manifest.put("mediaType", MediaTypes.DOCKER_MANIFEST);
            manifest.put("config", config.toJson());
            manifest.put("layers", layers);
            byte[] body = Json.bytes(manifest);
            Descriptor desc = new Descriptor(MediaTypes.DOCKER_MANIFEST, Digests.sha256(body), body.length);
            content.write("tar-manifest-" + desc.digest(), body, desc.digest(), Map.of());
            List<Object> tags = Json.arr(entry, "RepoTags");
            for (Object t : tags) {
                String name = Reference.parse(String.valueOf(t)).toString();
                out.put(name, desc.withAnnotations(Map.of(IMAGE_NAME_ANNOTATION, name,
                        REF_NAME_ANNOTATION, Reference.parse(name).object())));
            }
        }
        return out;
    }

    /** GC labels from each parent to its children (platform-filtered under an index), as containerd's import does. */
    private void labelTree(Descriptor d, boolean top) {
        List<Descriptor> children = new ArrayList<>();
        if (MediaTypes.isIndex(d.mediaType())) {
            for (Descriptor c : Manifests.index(content.read(d.digest())).manifests()) {
                if (options.allPlatforms() || c.platform() == null || options.platforms().match(c.platform())) children.add(c);
            }
        } else if (MediaTypes.isManifest(d.mediaType())) {
            Manifests.Manifest m = Manifests.manifest(content.read(d.digest()));
            children.add(m.config());
            children.addAll(m.layers());
        } else {
            if (top) throw ClientException.invalidArgument("unsupported media type %s for %s", d.mediaType(), d.digest());
            return;
        }
        children.removeIf(c -> !content.exists(c.digest()));
        Map<String, String> labels = new LinkedHashMap<>();
        Map<String, Integer> seen = new HashMap<>();
        for (Descriptor c : children) {
            String key = MediaTypes.childGcLabel(c.mediaType());
            int idx = seen.merge(key, 1, Integer::sum) - 1;
            if (idx > 0 || key.endsWith(".")) key = key + idx;
            labels.put(key, c.digest());
        }
        if (!labels.isEmpty()) {
            content.update(d.digest(), labels, FieldPaths.labels(labels.keySet()));
        }
        for (Descriptor c : children) {
            if (MediaTypes.isIndex(c.mediaType()) || MediaTypes.isManifest(c.mediaType())) labelTree(c, false);
        }
    }
}
