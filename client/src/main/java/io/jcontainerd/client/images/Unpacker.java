package io.jcontainerd.client.images;

import io.jcontainerd.client.ClientException;
import io.jcontainerd.client.ContainerdClient;
import io.jcontainerd.client.Mount;
import io.jcontainerd.client.SnapshotsClient;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * Unpacks an image's layers into a snapshotter the way containerd does, so either client can use
 * the result: for each layer, skip if the chain id is committed; else prepare
 * {@code extract-<unique> <chainid>} on the parent chain, apply the layer through the Diff service,
 * check the diff id, commit under the chain id; label layers {@code containerd.io/uncompressed} and
 * the config {@code containerd.io/gc.ref.snapshot.<snapshotter>}.
 */
public final class Unpacker {
    static final String SNAPSHOT_REF_LABEL = "containerd.io/snapshot.ref";
    private static final SecureRandom RANDOM = new SecureRandom();

    private Unpacker() {}

    /** Unpacks an image already in the content store; returns the top chain id. */
    public static String unpack(ContainerdClient client, Images.Resolved image, String snapshotter, Progress progress) {
        return unpack(client, image, snapshotter, progress, d -> CompletableFuture.completedFuture(null));
    }

    /**
     * As {@link #unpack(ContainerdClient, Images.Resolved, String, Progress)}, applying each layer as
     * soon as {@code ready} says its blob is in the content store (a pull in progress).
     */
    public static String unpack(ContainerdClient client, Images.Resolved image, String snapshotter, Progress progress,
                                Function<Descriptor, CompletableFuture<?>> ready) {
        if (client.lease() == null) {
            // snapshots between prepare and the config's label are only held by a lease
            try {
                return client.withLease(java.time.Duration.ofHours(24), leased -> unpack(leased, image, snapshotter, progress, ready));
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw ClientException.unknown(e.getMessage(), e);
            }
        }
        List<Descriptor> layers = image.manifest().layers();
        List<String> diffIds = image.config().diffIds();
        if (layers.size() != diffIds.size()) {
            throw ClientException.invalidArgument("number of layers and diffIDs don't match: %d != %d", layers.size(), diffIds.size());
        }
        SnapshotsClient sn = client.snapshots(snapshotter);
        List<String> chain = new ArrayList<>();
        String parent = "";
        for (int i = 0; i < layers.size(); i++) {
            Descriptor layer = layers.get(i);
            chain.add(diffIds.get(i));
            String chainId = Manifests.chainId(chain);
            if (!sn.exists(chainId)) {
                ready.apply(layer).join();
                progress.update(layer, Progress.State.UNPACKING, 0);
                applyLayer(client, sn, layer, diffIds.get(i), parent, chainId);
            }
            progress.update(layer, Progress.State.UNPACKED, layer.size());
            parent = chainId;
        }
        String chainId = Manifests.chainId(diffIds);
        client.content().setLabel(image.configDescriptor().digest(), "containerd.io/gc.ref.snapshot." + snapshotter, chainId);
        return chainId;
    }

    private static void applyLayer(ContainerdClient client, SnapshotsClient sn, Descriptor layer, String diffId,
                                   String parent, String chainId) {
        Map<String, String> labels = Map.of(SNAPSHOT_REF_LABEL, chainId);
        String key = null;
        List<Mount> mounts = null;
        for (int attempt = 1; attempt <= 3 && mounts == null; attempt++) {
            key = "extract-" + uniquePart() + " " + chainId;
            try {
                mounts = sn.prepare(key, parent, labels);
            } catch (ClientException e) {
                if (!e.isAlreadyExists()) throw new ClientException(e.code(), "failed to prepare extraction snapshot \"" + key + "\": " + e.getMessage(), e);
                // someone else may have unpacked it meanwhile
                if (sn.exists(chainId)) return;
            }
        }
        if (mounts == null) throw ClientException.alreadyExists("unable to prepare extraction snapshot for %s", chainId);
        try {
            Descriptor applied = client.diff().apply(layer, mounts);
            if (!applied.digest().equals(diffId)) {
                throw ClientException.failedPrecondition("wrong diff id calculated on extraction %s: got %s", diffId, applied.digest());
            }
            try {
                sn.commit(chainId, key, labels);
            } catch (ClientException e) {
                if (!e.isAlreadyExists()) throw e;
                removeQuietly(sn, key);
            }
        } catch (RuntimeException e) {
            removeQuietly(sn, key);
            throw e;
        }
        client.content().setLabel(layer.digest(), "containerd.io/uncompressed", diffId);
    }

    private static void removeQuietly(SnapshotsClient sn, String key) {
        try {
            sn.remove(key);
        } catch (ClientException ignored) {
            // already gone (committed or removed); the collector takes any leftovers with the lease
        }
    }

    /** {@code <nanos>-<base64url of 3 random bytes>}, as containerd makes extraction keys unique. */
    static String uniquePart() {
        byte[] b = new byte[3];
        RANDOM.nextBytes(b);
        return System.nanoTime() % 1_000_000_000L + "-" + Base64.getUrlEncoder().encodeToString(b);
    }
}
