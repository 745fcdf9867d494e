package io.jcontainerd.services.images;

import com.google.protobuf.Empty;
import io.grpc.stub.StreamObserver;
import io.jcontainerd.api.services.images.v1.CreateImageRequest;
import io.jcontainerd.api.services.images.v1.CreateImageResponse;
import io.jcontainerd.api.services.images.v1.DeleteImageRequest;
import io.jcontainerd.api.services.images.v1.GetImageRequest;
import io.jcontainerd.api.services.images.v1.GetImageResponse;
import io.jcontainerd.api.services.images.v1.ImageCreate;
import io.jcontainerd.api.services.images.v1.ImageDelete;
import io.jcontainerd.api.services.images.v1.ImageUpdate;
import io.jcontainerd.api.services.images.v1.ImagesGrpc;
import io.jcontainerd.api.services.images.v1.ListImagesRequest;
import io.jcontainerd.api.services.images.v1.ListImagesResponse;
import io.jcontainerd.api.services.images.v1.UpdateImageRequest;
import io.jcontainerd.api.services.images.v1.UpdateImageResponse;
import io.jcontainerd.api.types.Descriptor;
import io.jcontainerd.events.Publisher;
import io.jcontainerd.filters.Filter;
import io.jcontainerd.images.Image;
import io.jcontainerd.metadata.MetadataDb;
import io.jcontainerd.namespaces.Namespaces;
import io.jcontainerd.plugin.GrpcService;
import io.jcontainerd.plugin.PluginProvider;
import io.jcontainerd.plugin.PluginType;
import io.jcontainerd.plugin.Registration;
import io.jcontainerd.protobuf.Timestamps;
import java.util.List;

/** containerd.services.images.v1.Images over the metadata database. */
public final class ImagesService extends ImagesGrpc.ImagesImplBase implements GrpcService {

    private final MetadataDb db;
    private final Publisher events;

    ImagesService(MetadataDb db, Publisher events) {
        this.db = db;
        this.events = events;
    }

    @Override
    public void get(GetImageRequest req, StreamObserver<GetImageResponse> out) {
        String ns = Namespaces.required();
        Image img = db.read(tx -> db.images(tx, ns).get(req.getName()));
        out.onNext(GetImageResponse.newBuilder().setImage(toProto(img)).build());
        out.onCompleted();
    }

    @Override
    public void list(ListImagesRequest req, StreamObserver<ListImagesResponse> out) {
        String ns = Namespaces.required();
        Filter filter = Filter.parseAll(req.getFiltersList());
        List<Image> images = db.read(tx -> db.images(tx, ns).list(filter));
        ListImagesResponse.Builder resp = ListImagesResponse.newBuilder();
        images.forEach(i -> resp.addImages(toProto(i)));
        out.onNext(resp.build());
        out.onCompleted();
    }

    @Override
    public void create(CreateImageRequest req, StreamObserver<CreateImageResponse> out) {
        String ns = Namespaces.required();
        Image created = db.update(tx -> db.images(tx, ns).create(fromProto(req.getImage())));
        events.publish(ns, "/images/create", ImageCreate.newBuilder().setName(created.name()).putAllLabels(created.labels()).build());
        out.onNext(CreateImageResponse.newBuilder().setImage(toProto(created)).build());
        out.onCompleted();
    }

    @Override
    public void update(UpdateImageRequest req, StreamObserver<UpdateImageResponse> out) {
        String ns = Namespaces.required();
        List<String> paths = req.hasUpdateMask() ? req.getUpdateMask().getPathsList() : List.of();
        Image updated = db.update(tx -> db.images(tx, ns).update(fromProto(req.getImage()), paths));
        events.publish(ns, "/images/update", ImageUpdate.newBuilder().setName(updated.name()).putAllLabels(updated.labels()).build());
        out.onNext(UpdateImageResponse.newBuilder().setImage(toProto(updated)).build());
        out.onCompleted();
    }

    @Override
    public void delete(DeleteImageRequest req, StreamObserver<Empty> out) {
        String ns = Namespaces.required();
        db.update(tx -> {
            db.images(tx, ns).delete(req.getName());
            return null;
        });
        events.publish(ns, "/images/delete", ImageDelete.newBuilder().setName(req.getName()).build());
        // the image's target may now be unreferenced; with sync, wait until the collector has run
        db.gcTrigger().dirty();
        if (req.getSync()) db.gcTrigger().collect(true);
        out.onNext(Empty.getDefaultInstance());
        out.onCompleted();
    }

    static io.jcontainerd.api.services.images.v1.Image toProto(Image i) {
        Image.Descriptor t = i.target();
        return io.jcontainerd.api.services.images.v1.Image.newBuilder()
                .setName(i.name())
                .putAllLabels(i.labels())
                .setTarget(Descriptor.newBuilder().setMediaType(t.mediaType()).setDigest(t.digest()).setSize(t.size())
                        .putAllAnnotations(t.annotations()))
                .setCreatedAt(Timestamps.of(i.createdAt()))
                .setUpdatedAt(Timestamps.of(i.updatedAt()))
                .build();
    }

    static Image fromProto(io.jcontainerd.api.services.images.v1.Image i) {
        Descriptor t = i.getTarget();
        return new Image(i.getName(), i.getLabelsMap(),
                new Image.Descriptor(t.getMediaType(), t.getDigest(), t.getSize(), t.getAnnotationsMap()),
                Timestamps.toInstant(i.getCreatedAt()), Timestamps.toInstant(i.getUpdatedAt()));
    }

    public static final class Provider implements PluginProvider {
        @Override
        public List<Registration> registrations() {
            return List.of(Registration.of(PluginType.GRPC, "images", List.of(PluginType.METADATA, PluginType.GC),
                    ic -> new ImagesService(ic.plugins().single(PluginType.METADATA, MetadataDb.class), ic.events())));
        }
    }
}
