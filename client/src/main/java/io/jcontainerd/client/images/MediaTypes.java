package io.jcontainerd.client.images;

/** The media types containerd knows for images, and how it classifies them. */
public final class MediaTypes {
    public static final String DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar";
    public static final String DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip";
    public static final String DOCKER_LAYER_FOREIGN = "application/vnd.docker.image.rootfs.foreign.diff.tar";
    public static final String DOCKER_LAYER_FOREIGN_GZIP = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
    public static final String DOCKER_LAYER_ZSTD = "application/vnd.docker.image.rootfs.diff.tar.zstd";
    public static final String DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
    public static final String DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
    public static final String DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json";
    public static final String DOCKER_SCHEMA1_MANIFEST = "application/vnd.docker.distribution.manifest.v1+prettyjws";
    public static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
    public static final String OCI_INDEX = "application/vnd.oci.image.index.v1+json";
    public static final String OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
    public static final String OCI_LAYER = "application/vnd.oci.image.layer.v1.tar";
    public static final String OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";
    public static final String OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd";
    public static final String OCI_LAYER_NONDIST = "application/vnd.oci.image.layer.nondistributable.v1.tar";
    public static final String OCI_LAYER_NONDIST_GZIP = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
    public static final String OCI_LAYER_NONDIST_ZSTD = "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd";

    /** The Accept header a resolver sends: manifests and indexes of both families, then anything. */
    public static final String ACCEPT_MANIFESTS = String.join(", ", DOCKER_MANIFEST, DOCKER_MANIFEST_LIST,
            OCI_MANIFEST, OCI_INDEX, "*/*");

    private MediaTypes() {}

    public static boolean isManifest(String mt) {
        return DOCKER_MANIFEST.equals(mt) || OCI_MANIFEST.equals(mt);
    }

    public static boolean isIndex(String mt) {
        return DOCKER_MANIFEST_LIST.equals(mt) || OCI_INDEX.equals(mt);
    }

    public static boolean isConfig(String mt) {
        return DOCKER_CONFIG.equals(mt) || OCI_CONFIG.equals(mt);
    }

    /** Any OCI layer type, and the Docker layer types with any "+suffix" stripped. */
    public static boolean isLayer(String mt) {
        if (mt == null) return false;
        if (mt.startsWith("application/vnd.oci.image.layer.")) return true;
        String base = mt;
        int plus = base.indexOf('+');
        if (plus >= 0) base = base.substring(0, plus);
        return switch (base) {
            case DOCKER_LAYER, DOCKER_LAYER_FOREIGN, DOCKER_LAYER_GZIP, DOCKER_LAYER_FOREIGN_GZIP -> true;
            default -> false;
        };
    }

    /** Layers whose blobs are not to be fetched or pushed (foreign/non-distributable). */
    public static boolean isNonDistributable(String mt) {
        return mt != null && (mt.startsWith(DOCKER_LAYER_FOREIGN) || mt.startsWith(OCI_LAYER_NONDIST));
    }

    /**
     * The GC label keys a parent uses to reference a child of this media type: config is
     * {@code containerd.io/gc.ref.content.config}, manifests {@code ...m.}, layers {@code ...l.},
     * anything else {@code containerd.io/gc.ref.content.}; a trailing dot takes the child's index.
     */
    public static String childGcLabel(String mt) {
        if (isConfig(mt)) return "containerd.io/gc.ref.content.config";
        if (isManifest(mt)) return "containerd.io/gc.ref.content.m.";
        if (isLayer(mt)) return "containerd.io/gc.ref.content.l.";
        return "containerd.io/gc.ref.content.";
    }

    /** containerd's ingest ref for a descriptor (remotes.MakeRefKey): {@code layer-sha256:...} etc. */
    public static String refKey(Descriptor d) {
        String mt = d.mediaType();
        String name = d.annotations().get("org.opencontainers.image.ref.name");
        String key = name != null ? name + "@" + d.digest() : d.digest();
        if (isManifest(mt)) return "manifest-" + key;
        if (isIndex(mt)) return "index-" + key;
        if (isLayer(mt)) return "layer-" + key;
        if (isConfig(mt)) return "config-" + key;
        return "unknown-" + key;
    }
}
