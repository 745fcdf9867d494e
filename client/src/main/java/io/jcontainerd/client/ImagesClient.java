package io.jcontainerd.client;

import static io.jcontainerd.client.ClientException.call;

import io.grpc.Channel;
import io.jcontainerd.api.services.images.v1.CreateImageRequest;
import io.jcontainerd.api.services.images.v1.DeleteImageRequest;
import io.jcontainerd.api.services.images.v1.GetImageRequest;
import io.jcontainerd.api.services.images.v1.ImagesGrpc;
import io.jcontainerd.api.services.images.v1.ListImagesRequest;
import io.jcontainerd.api.services.images.v1.UpdateImageRequest;
import io.jcontainerd.client.images.Descriptor;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** containerd.services.images.v1.Images: the image records (name → target descriptor). */
public final class ImagesClient {
    private final ImagesGrpc.ImagesBlockingStub stub;

    ImagesClient(Channel channel) {
        this.stub = ImagesGrpc.newBlockingStub(channel);
    }

    public record Image(String name, Map<String, String> labels, Descriptor target, Instant createdAt, Instant updatedAt) {
        public Image(String name, Descriptor target) {
            this(name, Map.of(), target, null, null);
        }
    }

    static Image of(io.jcontainerd.api.services.images.v1.Image i) {
        return new Image(i.getName(), Map.copyOf(i.getLabelsMap()), Descriptor.fromProto(i.getTarget()),
                Protos.instant(i.getCreatedAt()), Protos.instant(i.getUpdatedAt()));
    }

    static io.jcontainerd.api.services.images.v1.Image proto(Image i) {
        var b = io.jcontainerd.api.services.images.v1.Image.newBuilder().setName(i.name()).putAllLabels(i.labels());
        if (i.target() != null) b.setTarget(i.target().toProto());
        return b.build();
    }

    public Image get(String name) {
        return of(call(() -> stub.get(GetImageRequest.newBuilder().setName(name).build())).getImage());
    }

    public List<Image> list(String... filters) {
        return call(() -> stub.list(ListImagesRequest.newBuilder().addAllFilters(List.of(filters)).build()))
                .getImagesList().stream().map(ImagesClient::of).toList();
    }

    public Image create(Image image) {
        return of(call(() -> stub.create(CreateImageRequest.newBuilder().setImage(proto(image)).build())).getImage());
    }

    /** Updates the given field paths ({@code target}, {@code labels}, {@code labels.<k>}); none: all. */
    public Image update(Image image, String... fields) {
        return of(call(() -> stub.update(UpdateImageRequest.newBuilder().setImage(proto(image))
                .setUpdateMask(Protos.mask(List.of(fields))).build())).getImage());
    }

    /** Creates the image, or points an existing one at the new target and labels (as containerd's pull does). */
    public Image createOrUpdate(Image image) {
        try {
            return create(image);
        } catch (ClientException e) {
            if (!e.isAlreadyExists()) throw e;
            return update(image, "target", "labels");
        }
    }

    /** Deletes the record; {@code sync} waits for the garbage collection it triggers. */
    public void delete(String name, boolean sync) {
        call(() -> stub.delete(DeleteImageRequest.newBuilder().setName(name).setSync(sync).build()));
    }
}
