package io.jcontainerd.client.images;

import io.jcontainerd.client.ClientException;
import io.jcontainerd.client.ContentClient;
import io.jcontainerd.client.platforms.Platform;
import io.jcontainerd.client.platforms.Platforms;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** Walking an image in the content store: the manifest for a platform, its config, its platforms. */
public final class Images {
    private Images() {}

    /** A manifest chosen for a platform, with its descriptor and config. */
    public record Resolved(Descriptor manifestDescriptor, Manifests.Manifest manifest, Descriptor configDescriptor,
                           Manifests.ImageConfig config) {
        public Platform platform() {
            return config.platform();
        }

        public String chainId() {
            return Manifests.chainId(config.diffIds());
        }
    }

    /** The manifests under {@code target} matching {@code matcher}, best first (a manifest target matches itself). */
    public static List<Descriptor> manifests(ContentClient content, Descriptor target, Platforms.Matcher matcher) {
        List<Descriptor> out = new ArrayList<>();
        collect(content, target, matcher, out, 0);
        List<Descriptor> sorted = new ArrayList<>(out);
        sorted.sort((a, b) -> a.platform() == null || b.platform() == null ? 0 : matcher.compare(a.platform(), b.platform()));
        return sorted;
    }

    private static void collect(ContentClient content, Descriptor d, Platforms.Matcher m, List<Descriptor> out, int depth) {
        if (depth > 8) throw ClientException.invalidArgument("index nesting too deep at %s", d.digest());
        if (MediaTypes.isManifest(d.mediaType())) {
            if (d.platform() == null || m.match(d.platform())) out.add(d);
        } else if (MediaTypes.isIndex(d.mediaType())) {
            for (Descriptor c : Manifests.index(content.read(d.digest())).manifests()) {
                if (c.platform() != null && !m.match(c.platform())) continue;
                collect(content, c, m, out, depth + 1);
            }
        } else {
            throw ClientException.invalidArgument("unsupported media type %s for %s", d.mediaType(), d.digest());
        }
    }

    /**
     * The best manifest for the platform; a manifest without a platform in its index entry is
     * checked against its config's platform, as containerd does.
     */
    public static Resolved resolve(ContentClient content, Descriptor target, Platforms.Matcher matcher) {
        for (Descriptor md : manifests(content, target, matcher)) {
            Manifests.Manifest m = Manifests.manifest(content.read(md.digest()));
            Manifests.ImageConfig cfg = Manifests.config(content.read(m.config().digest()));
            if (md.platform() == null && !cfg.platform().os().isEmpty() && !matcher.match(cfg.platform())) continue;
            return new Resolved(md, m, m.config(), cfg);
        }
        throw ClientException.notFound("manifest for %s: no match for platform in manifest", target.digest());
    }

    /** Every platform the image offers (from index entries, or the config of a single manifest). */
    public static List<Platform> platforms(ContentClient content, Descriptor target) {
        Set<Platform> out = new LinkedHashSet<>();
        if (MediaTypes.isIndex(target.mediaType())) {
            for (Descriptor c : Manifests.index(content.read(target.digest())).manifests()) {
                if (c.platform() != null) out.add(c.platform());
                else if (MediaTypes.isIndex(c.mediaType())) out.addAll(platforms(content, c));
            }
        } else if (MediaTypes.isManifest(target.mediaType())) {
            Manifests.Manifest m = Manifests.manifest(content.read(target.digest()));
            out.add(Manifests.config(content.read(m.config().digest())).platform());
        }
        return List.copyOf(out);
    }

    /** What of an image is in the content store: the blobs it needs for a platform, and which are missing. */
    public record Check(boolean complete, List<Descriptor> required, List<Descriptor> present, List<Descriptor> missing, long size) {}

    public static Check check(ContentClient content, Descriptor target, Platforms.Matcher matcher) {
        List<Descriptor> required = new ArrayList<>();
        List<Descriptor> present = new ArrayList<>();
        List<Descriptor> missing = new ArrayList<>();
        walkCheck(content, target, matcher, required, present, missing);
        long size = present.stream().mapToLong(Descriptor::size).sum();
        return new Check(missing.isEmpty(), required, present, missing, size);
    }

    private static void walkCheck(ContentClient content, Descriptor d, Platforms.Matcher m, List<Descriptor> required,
                                  List<Descriptor> present, List<Descriptor> missing) {
        required.add(d);
        if (!content.exists(d.digest())) {
            missing.add(d);
            return;
        }
        present.add(d);
        if (MediaTypes.isIndex(d.mediaType())) {
            List<Descriptor> ms = new ArrayList<>();
            for (Descriptor c : Manifests.index(content.read(d.digest())).manifests()) {
                if (c.platform() == null || m.match(c.platform())) ms.add(c);
            }
            ms.sort((a, b) -> a.platform() == null || b.platform() == null ? 0 : m.compare(a.platform(), b.platform()));
            if (!ms.isEmpty()) walkCheck(content, ms.getFirst(), m, required, present, missing);
        } else if (MediaTypes.isManifest(d.mediaType())) {
            Manifests.Manifest man = Manifests.manifest(content.read(d.digest()));
            walkCheck(content, man.config(), m, required, present, missing);
            for (Descriptor l : man.layers()) walkCheck(content, l, m, required, present, missing);
        }
    }
}
