package io.jcontainerd.client.archive;

import io.jcontainerd.client.ClientException;
import io.jcontainerd.client.ContainerdClient;
import io.jcontainerd.client.ContentClient;
import io.jcontainerd.client.ContentReader;
import io.jcontainerd.client.ImagesClient;
import io.jcontainerd.client.Json;
import io.jcontainerd.client.images.Descriptor;
import io.jcontainerd.client.images.Manifests;
import io.jcontainerd.client.images.MediaTypes;
import io.jcontainerd.client.platforms.Platforms;
import io.jcontainerd.client.reference.Reference;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes images as an OCI image layout tarball (oci-layout, index.json, blobs/), the format
 * {@code ctr images import} and {@code skopeo} read. Each image is an index.json entry annotated
 * with its full name ({@code io.containerd.image.name}) and its tag ({@code org.opencontainers.image.ref.name});
 * a docker-compatible manifest.json is added for images that resolve to one manifest.
 */
public final class Exporter {
    public record Options(Platforms.Matcher platforms, boolean allPlatforms, boolean dockerManifest) {
        public Options {
            platforms = platforms == null ? Platforms.defaultMatcher() : platforms;
        }

        public static Options defaults() {
            return new Options(null, false, true);
        }
    }

    private Exporter() {}

    public static void export(ContainerdClient client, List<String> names, OutputStream out, Options options) throws IOException {
        if (names.isEmpty()) throw ClientException.invalidArgument("no images to export");
        ContentClient content = client.content();
        Map<String, Descriptor> blobs = new LinkedHashMap<>();
        List<Map<String, Object>> index = new ArrayList<>();
        List<Map<String, Object>> docker = new ArrayList<>();
        for (String name : names) {
            ImagesClient.Image img = client.images().get(name);
            Descriptor t = img.target();
            collect(content, t, options, blobs, true);
            Map<String, String> ann = new LinkedHashMap<>(t.annotations());
            ann.put(Importer.IMAGE_NAME_ANNOTATION, img.name());
            String refName = refName(img.name());
            if (refName != null) ann.put(Importer.REF_NAME_ANNOTATION, refName);
            index.add(new Descriptor(t.mediaType(), t.digest(), t.size(), ann, List.of(), null).toJson());
            if (options.dockerManifest()) dockerEntry(content, img, options, docker);
        }
        try (TarWriter tar = new TarWriter(out, 0)) {
            tar.file("oci-layout", Json.bytes(Map.of("imageLayoutVersion", "1.0.0")));
            tar.directory("blobs");
            Set<String> algs = new LinkedHashSet<>();
            for (Descriptor d : blobs.values()) {
                String alg = d.digest().substring(0, d.digest().indexOf(':'));
                if (algs.add(alg)) tar.directory("blobs/" + alg);
                try (ContentReader r = content.reader(d.digest()); InputStream in = r.stream(0, 0)) {
                    tar.file(path(d), r.size(), in);
                }
            }
            Map<String, Object> idx = new LinkedHashMap<>();
            idx.put("schemaVersion", 2L);
            idx.put("mediaType", MediaTypes.OCI_INDEX);
            idx.put("manifests", index);
            tar.file("index.json", Json.bytes(idx));
            if (!docker.isEmpty()) tar.file("manifest.json", Json.bytes(docker));
        }
    }

    /** OCI's ref.name is the tag only (the annotation with the full name is containerd's). */
    private static String refName(String name) {
        try {
            return Reference.parse(name).object();
        } catch (ClientException e) {
            return name;
        }
    }

    private static String path(Descriptor d) {
        return "blobs/" + d.digest().replace(':', '/');
    }

    private static void collect(ContentClient content, Descriptor d, Options o, Map<String, Descriptor> blobs, boolean root) {
        if (MediaTypes.isIndex(d.mediaType())) {
            blobs.putIfAbsent(d.digest(), d);
            for (Descriptor c : Manifests.index(content.read(d.digest())).manifests()) {
                if (!o.allPlatforms() && c.platform() != null && !o.platforms().match(c.platform())) continue;
                if (!content.exists(c.digest())) {
                    if (o.allPlatforms()) throw ClientException.notFound("content %s of %s is not in the store", c.digest(), d.digest());
                    continue;
                }
                collect(content, c, o, blobs, false);
            }
        } else if (MediaTypes.isManifest(d.mediaType())) {
            blobs.putIfAbsent(d.digest(), d);
            Manifests.Manifest m = Manifests.manifest(content.read(d.digest()));
            blobs.putIfAbsent(m.config().digest(), m.config());
            for (Descriptor l : m.layers()) {
                if (MediaTypes.isNonDistributable(l.mediaType()) && !content.exists(l.digest())) continue;
                blobs.putIfAbsent(l.digest(), l);
            }
        } else if (root) {
            throw ClientException.invalidArgument("cannot export %s: unsupported media type %s", d.digest(), d.mediaType());
        } else {
            blobs.putIfAbsent(d.digest(), d);
        }
    }

    private static void dockerEntry(ContentClient content, ImagesClient.Image img, Options o, List<Map<String, Object>> out) {
        Descriptor md;
        try {
            md = io.jcontainerd.client.images.Images.manifests(content, img.target(), o.platforms()).stream()
                    .filter(d -> content.exists(d.digest())).findFirst().orElse(null);
        } catch (ClientException e) {
            return;
        }
        if (md == null) return;
        Manifests.Manifest m = Manifests.manifest(content.read(md.digest()));
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("Config", path(m.config()));
        String tag;
        try {
            Reference r = Reference.parse(img.name());
            tag = r.tag() != null ? r.withTag(r.tag()).familiar() : null;
        } catch (ClientException bad) {
            tag = null;
        }
        e.put("RepoTags", tag == null ? List.of() : List.of(tag));
        e.put("Layers", m.layers().stream().map(Exporter::path).toList());
        out.add(e);
    }
}
