package io.jcontainerd.archive.compression;

import io.jcontainerd.errdefs.Errdefs;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/** Layer media types (OCI and Docker) and what they say about compression, as containerd reads them. */
public final class MediaTypes {
    private MediaTypes() {}

    public static final String OCI_LAYER = "application/vnd.oci.image.layer.v1.tar";
    public static final String OCI_LAYER_GZIP = OCI_LAYER + "+gzip";
    public static final String OCI_LAYER_ZSTD = OCI_LAYER + "+zstd";
    public static final String OCI_LAYER_NONDISTRIBUTABLE = "application/vnd.oci.image.layer.nondistributable.v1.tar";
    public static final String OCI_LAYER_NONDISTRIBUTABLE_GZIP = OCI_LAYER_NONDISTRIBUTABLE + "+gzip";
    public static final String OCI_LAYER_NONDISTRIBUTABLE_ZSTD = OCI_LAYER_NONDISTRIBUTABLE + "+zstd";
    public static final String DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar";
    public static final String DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip";
    public static final String DOCKER_LAYER_FOREIGN = "application/vnd.docker.image.rootfs.foreign.diff.tar";
    public static final String DOCKER_LAYER_FOREIGN_GZIP = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";

    /** What a layer media type declares about its compression. */
    public enum Declared {
        /** Plain tar: applied as is. */
        NONE,
        GZIP,
        ZSTD,
        /** Docker's uncompressed types, which are often compressed anyway: detect from the bytes. */
        UNKNOWN
    }

    /**
     * containerd's {@code images.DiffCompression}: the compression a layer media type declares.
     * Wrapped types (any other {@code +suffix}) are NONE; a media type that is not a layer is NotImplemented.
     */
    public static Declared declared(String mediaType) {
        String[] parts = mediaType == null ? new String[] {""} : mediaType.split("\\+", -1);
        String base = parts[0];
        String[] ext = Arrays.copyOfRange(parts, 1, parts.length);
        Arrays.sort(ext);
        return switch (base) {
            case DOCKER_LAYER, DOCKER_LAYER_FOREIGN -> ext.length > 0 ? Declared.NONE : Declared.UNKNOWN;
            case DOCKER_LAYER_GZIP, DOCKER_LAYER_FOREIGN_GZIP -> ext.length > 0 ? Declared.NONE : Declared.GZIP;
            case OCI_LAYER, OCI_LAYER_NONDISTRIBUTABLE -> ext.length == 0 ? Declared.NONE : switch (ext[ext.length - 1]) {
                case "gzip" -> Declared.GZIP;
                case "zstd" -> Declared.ZSTD;
                default -> Declared.NONE;
            };
            default -> throw Errdefs.notImplemented("no processor for media-type %s: unrecognised mediatype %s",
                    mediaType, mediaType);
        };
    }

    /**
     * Opens the uncompressed tar of a layer blob. As containerd, a media type that declares any compression
     * (or may be compressed) is decompressed by what its bytes say, so a {@code +gzip} blob holding zstd still
     * works; a plain tar type is read as is.
     */
    public static InputStream openLayer(InputStream blob, String mediaType) throws IOException {
        return declared(mediaType) == Declared.NONE ? blob : Compression.decompress(blob);
    }

    /** True for layer media types, as containerd's {@code images.IsLayerType}. */
    public static boolean isLayer(String mediaType) {
        if (mediaType == null) return false;
        if (mediaType.startsWith("application/vnd.oci.image.layer.")) return true;
        String base = mediaType.split("\\+", 2)[0];
        return switch (base) {
            case DOCKER_LAYER, DOCKER_LAYER_GZIP, DOCKER_LAYER_FOREIGN, DOCKER_LAYER_FOREIGN_GZIP -> true;
            default -> false;
        };
    }

    /** containerd's {@code images.IsNonDistributable}. */
    public static boolean isNonDistributable(String mediaType) {
        return mediaType != null && (mediaType.startsWith("application/vnd.oci.image.layer.nondistributable.")
                || mediaType.startsWith("application/vnd.docker.image.rootfs.foreign."));
    }

    /**
     * The compression a diff written with this media type gets. Empty means the OCI gzip default
     * (as the walking differ); only OCI layer tar, +gzip and +zstd are produced, others are NotImplemented.
     */
    public static Compression forDiff(String mediaType) {
        if (mediaType == null || mediaType.isEmpty()) return Compression.GZIP;
        return switch (mediaType) {
            case OCI_LAYER -> Compression.UNCOMPRESSED;
            case OCI_LAYER_GZIP -> Compression.GZIP;
            case OCI_LAYER_ZSTD -> Compression.ZSTD;
            default -> throw Errdefs.notImplemented("unsupported diff media type: %s", mediaType);
        };
    }

    /** The OCI layer media type for a compression. */
    public static String ociLayer(Compression c) {
        return switch (c) {
            case UNCOMPRESSED -> OCI_LAYER;
            case GZIP -> OCI_LAYER_GZIP;
            case ZSTD -> OCI_LAYER_ZSTD;
        };
    }
}
