package io.jcontainerd.client;

import static io.jcontainerd.client.ClientException.call;

import io.grpc.Channel;
import io.jcontainerd.api.services.diff.v1.ApplyRequest;
import io.jcontainerd.api.services.diff.v1.DiffGrpc;
import io.jcontainerd.api.services.diff.v1.DiffRequest;
import io.jcontainerd.client.images.Descriptor;
import java.util.List;
import java.util.Map;

/** containerd.services.diff.v1.Diff: apply a layer onto mounts, or compute one between two mount sets. */
public final class DiffClient {
    private final DiffGrpc.DiffBlockingStub stub;

    DiffClient(Channel channel) {
        this.stub = DiffGrpc.newBlockingStub(channel);
    }

    /** Applies the layer blob {@code layer} onto {@code mounts}; returns the uncompressed diff's descriptor. */
    public Descriptor apply(Descriptor layer, List<Mount> mounts) {
        return Descriptor.fromProto(call(() -> stub.apply(ApplyRequest.newBuilder().setDiff(layer.toProto())
                .addAllMounts(mounts.stream().map(Mount::toProto).toList()).build())).getApplied());
    }

    /** Writes the changes from {@code lower} to {@code upper} as a layer into content. */
    public Descriptor diff(List<Mount> lower, List<Mount> upper, String mediaType, String ref, Map<String, String> labels) {
        var b = DiffRequest.newBuilder().addAllLeft(lower.stream().map(Mount::toProto).toList())
                .addAllRight(upper.stream().map(Mount::toProto).toList()).putAllLabels(labels);
        if (mediaType != null) b.setMediaType(mediaType);
        if (ref != null) b.setRef(ref);
        return Descriptor.fromProto(call(() -> stub.diff(b.build())).getDiff());
    }
}
