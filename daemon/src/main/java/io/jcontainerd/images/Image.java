package io.jcontainerd.images;

import io.jcontainerd.errdefs.Errdefs;
import io.jcontainerd.namespaces.Namespaces;
import java.time.Instant;
import java.util.Map;
import java.util.regex.Pattern;

/** An image record: a name pointing at a target descriptor (manifest or index), with labels. */
public record Image(String name, Map<String, String> labels, Descriptor target, Instant createdAt, Instant updatedAt) {

    /** An OCI descriptor: media type, digest, size and annotations. */
    public record Descriptor(String mediaType, String digest, long size, Map<String, String> annotations) {
        public Descriptor {
            annotations = Map.copyOf(annotations);
        }
    }

    public Image {
        labels = Map.copyOf(labels);
    }

    private static final Pattern DIGEST = Pattern.compile("[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+");

    /**
     * The checks containerd's image store makes (name set, labels sized, target complete), plus the
     * reference shape containerd's reference parser accepts: a host-led locator without a scheme,
     * an optional {@code :tag}/{@code @digest} object, no whitespace or control characters.
     */
    public void validate() {
        validateName(name);
        Namespaces.validateLabels(labels);
        if (target == null || target.digest().isEmpty()) throw Errdefs.invalidArgument("Target.Digest \"\" invalid: empty digest");
        if (!DIGEST.matcher(target.digest()).matches()) {
            throw Errdefs.invalidArgument("Target.Digest \"%s\" invalid: invalid checksum digest format", target.digest());
        }
        if (target.size() <= 0) throw Errdefs.invalidArgument("Target.Size must be greater than zero");
        if (target.mediaType().isEmpty()) throw Errdefs.invalidArgument("Target.MediaType must be set");
    }

    public static void validateName(String name) {
        if (name == null || name.isEmpty()) throw Errdefs.invalidArgument("image name must not be empty");
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c <= ' ' || c == 0x7f) throw Errdefs.invalidArgument("image name \"%s\" must not contain whitespace or control characters", name);
        }
        if (name.contains("://")) throw Errdefs.invalidArgument("image name \"%s\" is not a valid reference: no scheme allowed", name);
        if (name.startsWith("/") || name.startsWith(":") || name.startsWith("@")) {
            throw Errdefs.invalidArgument("image name \"%s\" is not a valid reference: hostname required", name);
        }
        int at = name.indexOf('@');
        if (at >= 0 && !DIGEST.matcher(name.substring(at + 1)).matches()) {
            throw Errdefs.invalidArgument("image name \"%s\" is not a valid reference: invalid digest", name);
        }
    }
}
