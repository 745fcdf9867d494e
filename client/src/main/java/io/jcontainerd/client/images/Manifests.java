package io.jcontainerd.client.images;

import io.jcontainerd.client.ClientException;
import io.jcontainerd.client.Json;
import io.jcontainerd.client.platforms.Platform;
import java.util.List;
import java.util.Map;

/** Parsed image manifests, indexes and configs (only the members clients act on). */
public final class Manifests {
    private Manifests() {}

    public record Index(String mediaType, List<Descriptor> manifests, Map<String, String> annotations) {}

    public record Manifest(String mediaType, Descriptor config, List<Descriptor> layers, Map<String, String> annotations) {}

    /** The image config: its platform and the uncompressed layer digests. */
    public record ImageConfig(Platform platform, List<String> diffIds, Map<String, Object> json) {}

    public static Index index(byte[] json) {
        Map<String, Object> m = parse(json, "index");
        List<Descriptor> ms = Json.arr(m, "manifests").stream().map(Manifests::descriptor).toList();
        return new Index(Json.str(m, "mediaType"), ms, Json.strings(m, "annotations"));
    }

    public static Manifest manifest(byte[] json) {
        Map<String, Object> m = parse(json, "manifest");
        Map<String, Object> config = Json.obj(m, "config");
        if (config == null) throw ClientException.invalidArgument("invalid manifest: no config");
        List<Descriptor> layers = Json.arr(m, "layers").stream().map(Manifests::descriptor).toList();
        return new Manifest(Json.str(m, "mediaType"), Descriptor.fromJson(config), layers, Json.strings(m, "annotations"));
    }

    public static ImageConfig config(byte[] json) {
        Map<String, Object> m = parse(json, "image config");
        Map<String, Object> rootfs = Json.obj(m, "rootfs");
        List<String> diffIds = rootfs == null ? List.of() : Json.arr(rootfs, "diff_ids").stream().map(String::valueOf).toList();
        return new ImageConfig(Platform.fromJson(m), diffIds, m);
    }

    @SuppressWarnings("unchecked")
    private static Descriptor descriptor(Object o) {
        if (!(o instanceof Map<?, ?> m)) throw ClientException.invalidArgument("invalid descriptor %s", o);
        return Descriptor.fromJson((Map<String, Object>) m);
    }

    private static Map<String, Object> parse(byte[] json, String what) {
        try {
            return Json.parseObject(json);
        } catch (IllegalArgumentException e) {
            throw ClientException.invalidArgument("invalid %s: %s", what, e.getMessage());
        }
    }

    /** containerd's chain id: the first diff id, then sha256("<parent chain> <diff id>") for each next one. */
    public static String chainId(List<String> diffIds) {
        if (diffIds.isEmpty()) return "";
        String chain = diffIds.getFirst();
        for (int i = 1; i < diffIds.size(); i++) {
            chain = io.jcontainerd.client.remotes.Digests.sha256((chain + " " + diffIds.get(i)).getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        return chain;
    }
}
