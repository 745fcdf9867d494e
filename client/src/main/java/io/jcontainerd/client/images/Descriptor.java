package io.jcontainerd.client.images;

import io.jcontainerd.client.Json;
import io.jcontainerd.client.platforms.Platform;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** An OCI content descriptor: media type, digest, size, plus annotations, urls and platform when present. */
public record Descriptor(String mediaType, String digest, long size, Map<String, String> annotations,
                         List<String> urls, Platform platform) {
    public Descriptor {
        mediaType = mediaType == null ? "" : mediaType;
        annotations = annotations == null ? Map.of() : Map.copyOf(annotations);
        urls = urls == null ? List.of() : List.copyOf(urls);
    }

    public Descriptor(String mediaType, String digest, long size) {
        this(mediaType, digest, size, Map.of(), List.of(), null);
    }

    public Descriptor withAnnotations(Map<String, String> a) {
        return new Descriptor(mediaType, digest, size, a, urls, platform);
    }

    public Descriptor withPlatform(Platform p) {
        return new Descriptor(mediaType, digest, size, annotations, urls, p);
    }

    public static Descriptor fromJson(Map<String, Object> m) {
        Map<String, Object> p = Json.obj(m, "platform");
        List<String> urls = Json.arr(m, "urls").stream().map(String::valueOf).toList();
        return new Descriptor(Json.str(m, "mediaType"), Json.str(m, "digest"), Json.num(m, "size"),
                Json.strings(m, "annotations"), urls, p == null ? null : Platform.fromJson(p));
    }

    /** The JSON object as the OCI spec lays it out (mediaType, digest, size, then optional members). */
    public Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("mediaType", mediaType);
        m.put("digest", digest);
        m.put("size", size);
        if (!urls.isEmpty()) m.put("urls", urls);
        if (!annotations.isEmpty()) m.put("annotations", new LinkedHashMap<>(annotations));
        if (platform != null) m.put("platform", platform.toJson());
        return m;
    }

    public io.jcontainerd.api.types.Descriptor toProto() {
        return io.jcontainerd.api.types.Descriptor.newBuilder().setMediaType(mediaType).setDigest(digest)
                .setSize(size).putAllAnnotations(annotations).build();
    }

    public static Descriptor fromProto(io.jcontainerd.api.types.Descriptor d) {
        return new Descriptor(d.getMediaType(), d.getDigest(), d.getSize(), d.getAnnotationsMap(), List.of(), null);
    }
}
