package io.jcontainerd.diff.walking;

import io.jcontainerd.archive.Applier;
import io.jcontainerd.archive.ApplyOptions;
import io.jcontainerd.archive.ApplyResult;
import io.jcontainerd.archive.compression.MediaTypes;
import io.jcontainerd.content.ContentStore;
import io.jcontainerd.content.ContentStreams;
import io.jcontainerd.content.Digest;
import io.jcontainerd.content.Info;
import io.jcontainerd.content.ReaderAt;
import io.jcontainerd.content.Writer;
import io.jcontainerd.diff.DiffResult;
import io.jcontainerd.diff.Differ;
import io.jcontainerd.diff.OverlayTarget;
import io.jcontainerd.errdefs.ContainerdException;
import io.jcontainerd.errdefs.ErrorKind;
import io.jcontainerd.errdefs.Errdefs;
import io.jcontainerd.mount.Mount;
import io.jcontainerd.mount.Mounts;
import io.jcontainerd.plugin.PluginProvider;
import io.jcontainerd.plugin.PluginType;
import io.jcontainerd.plugin.Registration;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * containerd's walking differ ({@code io.containerd.differ.v1.walking}): applies layer blobs onto
 * mounts, and computes a layer from two mounted trees by walking both. It works on whichever
 * (namespaced) content store the caller hands it.
 */
public final class WalkingDiffer {

    /** A descriptor as the diff API speaks it. */
    public record Descriptor(String mediaType, String digest, long size) {}

    /**
     * Applies layer {@code desc} from {@code content} onto {@code mounts}; returns the uncompressed
     * layer's descriptor (its digest is the layer's diff id, which the caller verifies).
     */
    public Descriptor apply(ContentStore content, Descriptor desc, List<Mount> mounts) throws IOException {
        if (!MediaTypes.isLayer(desc.mediaType())) {
            throw Errdefs.notImplemented("unsupported media type %s", desc.mediaType());
        }
        Digest digest = Digest.parse(desc.digest());
        try (ReaderAt r = content.readerAt(digest);
             InputStream layer = MediaTypes.openLayer(new BufferedInputStream(ContentStreams.inputStream(r), 1 << 16), desc.mediaType())) {
            ApplyResult result = applyTo(mounts, layer);
            return new Descriptor(MediaTypes.OCI_LAYER, result.digest().toString(), result.size());
        }
    }

    /**
     * As containerd on Linux: a single overlay mount with an upper dir is applied straight into the
     * upper dir with overlay whiteouts; anything else is mounted in a temp location and applied plainly.
     */
    private static ApplyResult applyTo(List<Mount> mounts, InputStream tar) throws IOException {
        if (mounts.size() == 1 && mounts.getFirst().type().equals("overlay")) {
            OverlayTarget target = overlayUpper(mounts.getFirst());
            if (target != null) return Applier.apply(target.upper(), tar, ApplyOptions.overlay(target.lowers()));
        }
        return Mounts.withTempMount(mounts, root -> Applier.apply(root, tar, ApplyOptions.plain()));
    }

    private static OverlayTarget overlayUpper(Mount m) {
        try {
            return OverlayTarget.parse(m.options());
        } catch (ContainerdException e) {
            if (e.kind() == ErrorKind.NOT_IMPLEMENTED) return null; // no upperdir: a read-only overlay
            throw e;
        }
    }

    /**
     * Writes the layer turning {@code lower} into {@code upper} into {@code content} under {@code ref}
     * (a fresh one when empty) and returns its descriptor; the blob carries the
     * {@code containerd.io/uncompressed} label when compressed.
     */
    public Descriptor compare(ContentStore content, List<Mount> lower, List<Mount> upper, String mediaType, String ref,
                              Map<String, String> labels) throws IOException {
        MediaTypes.forDiff(mediaType); // rejects unsupported types before anything is mounted
        boolean freshRef = ref == null || ref.isEmpty();
        String writerRef = freshRef ? uniqueRef() : ref;
        return Mounts.withTempMount(lower, lowerRoot -> Mounts.withReadonlyTempMount(upper, upperRoot -> {
            Writer w = content.writer(writerRef, 0, null);
            boolean done = false;
            try {
                if (!freshRef) w.truncate(0);
                DiffResult result;
                try (OutputStream out = ContentStreams.outputStream(w)) {
                    result = Differ.diff(lowerRoot, upperRoot, out, mediaType);
                }
                Map<String, String> commitLabels = new HashMap<>(labels);
                boolean compressed = !result.mediaType().equals(MediaTypes.OCI_LAYER);
                if (compressed) commitLabels.put(DiffResult.UNCOMPRESSED_LABEL, result.uncompressedDigest().toString());
                try {
                    w.commit(0, result.digest(), commitLabels);
                } catch (ContainerdException e) {
                    if (e.kind() != ErrorKind.ALREADY_EXISTS) throw e;
                }
                done = true;
                if (compressed) ensureUncompressedLabel(content, result);
                return new Descriptor(result.mediaType(), result.digest().toString(), result.size());
            } finally {
                if (!done) {
                    w.close();
                    if (freshRef) abortQuietly(content, writerRef);
                }
            }
        }));
    }

    /** A blob that already existed may lack the label; add it, as containerd does. */
    private static void ensureUncompressedLabel(ContentStore content, DiffResult result) throws IOException {
        Info info = content.info(result.digest());
        if (info.labels().containsKey(DiffResult.UNCOMPRESSED_LABEL)) return;
        Map<String, String> labels = new HashMap<>(info.labels());
        labels.put(DiffResult.UNCOMPRESSED_LABEL, result.uncompressedDigest().toString());
        content.update(new Info(info.digest(), info.size(), info.createdAt(), info.updatedAt(), labels),
                List.of("labels." + DiffResult.UNCOMPRESSED_LABEL));
    }

    private static void abortQuietly(ContentStore content, String ref) {
        try {
            content.abort(ref);
        } catch (IOException | RuntimeException ignored) {
            // nothing was left to abort
        }
    }

    private static String uniqueRef() {
        return System.nanoTime() + "-" + Long.toHexString(ThreadLocalRandom.current().nextLong());
    }

    public static final class Provider implements PluginProvider {
        @Override
        public List<Registration> registrations() {
            return List.of(Registration.of(PluginType.DIFF, "walking", List.of(PluginType.METADATA), ic -> {
                ic.platforms().add(io.jcontainerd.plugin.Platform.host());
                return new WalkingDiffer();
            }));
        }
    }
}
