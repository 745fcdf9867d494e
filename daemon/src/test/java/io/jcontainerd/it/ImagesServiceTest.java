package io.jcontainerd.it;

import static io.jcontainerd.testing.DaemonProcess.inNamespace;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.FieldMask;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.jcontainerd.api.services.events.v1.EventsGrpc;
import io.jcontainerd.api.services.events.v1.SubscribeRequest;
import io.jcontainerd.api.services.images.v1.CreateImageRequest;
import io.jcontainerd.api.services.images.v1.DeleteImageRequest;
import io.jcontainerd.api.services.images.v1.GetImageRequest;
import io.jcontainerd.api.services.images.v1.Image;
import io.jcontainerd.api.services.images.v1.ImagesGrpc;
import io.jcontainerd.api.services.images.v1.ListImagesRequest;
import io.jcontainerd.api.services.images.v1.UpdateImageRequest;
import io.jcontainerd.api.services.namespaces.v1.DeleteNamespaceRequest;
import io.jcontainerd.api.services.namespaces.v1.NamespacesGrpc;
import io.jcontainerd.api.types.Descriptor;
import io.jcontainerd.testing.Ctr;
import io.jcontainerd.testing.DaemonProcess;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The Images service over gRPC and through the real ctr (records only: no content needed). */
class ImagesServiceTest {
    static final String INDEX = "application/vnd.oci.image.index.v1+json";
    static final String DIGEST = "sha256:" + "ab".repeat(32);
    static DaemonProcess daemon;

    @BeforeAll
    static void start() throws Exception {
        daemon = DaemonProcess.start();
    }

    @AfterAll
    static void stop() {
        if (daemon != null) daemon.close();
    }

    static Image image(String name) {
        return Image.newBuilder().setName(name).putLabels("team", "a")
                .setTarget(Descriptor.newBuilder().setMediaType(INDEX).setDigest(DIGEST).setSize(512).putAnnotations("org.example", "x"))
                .build();
    }

    static Status.Code codeOf(Runnable r) {
        try {
            r.run();
            return Status.Code.OK;
        } catch (StatusRuntimeException e) {
            return e.getStatus().getCode();
        }
    }

    @Test
    void createGetListUpdateDeleteWithEvents() throws Exception {
        var images = inNamespace(ImagesGrpc.newBlockingStub(daemon.channel()), "imgs");
        var events = EventsGrpc.newBlockingStub(daemon.channel()).withDeadlineAfter(20, TimeUnit.SECONDS)
                .subscribe(SubscribeRequest.newBuilder().addFilters("namespace==imgs").build());
        Thread.sleep(300); // let the subscription register before the first event

        var created = images.create(CreateImageRequest.newBuilder().setImage(image("docker.io/library/busybox:latest")).build()).getImage();
        assertThat(created.getCreatedAt().getSeconds()).isPositive();
        assertThat(codeOf(() -> images.create(CreateImageRequest.newBuilder().setImage(image("docker.io/library/busybox:latest")).build())))
                .isEqualTo(Status.Code.ALREADY_EXISTS);

        var got = images.get(GetImageRequest.newBuilder().setName("docker.io/library/busybox:latest").build()).getImage();
        assertThat(got.getTarget().getDigest()).isEqualTo(DIGEST);
        assertThat(got.getTarget().getAnnotationsMap()).containsEntry("org.example", "x");

        images.create(CreateImageRequest.newBuilder().setImage(image("docker.io/library/alpine:3")).build());
        var byName = images.list(ListImagesRequest.newBuilder().addFilters("name~=alpine").build());
        assertThat(byName.getImagesList()).extracting(Image::getName).containsExactly("docker.io/library/alpine:3");
        var byMedia = images.list(ListImagesRequest.newBuilder().addFilters("target.mediatype==\"" + INDEX + "\",labels.team==a").build());
        assertThat(byMedia.getImagesCount()).isEqualTo(2);

        var updated = images.update(UpdateImageRequest.newBuilder()
                .setImage(Image.newBuilder().setName("docker.io/library/alpine:3").putLabels("tier", "gold"))
                .setUpdateMask(FieldMask.newBuilder().addPaths("labels.tier").addPaths("labels.team")).build()).getImage();
        assertThat(updated.getLabelsMap()).isEqualTo(Map.of("tier", "gold"));
        assertThat(updated.getCreatedAt()).isEqualTo(images.get(GetImageRequest.newBuilder().setName("docker.io/library/alpine:3").build()).getImage().getCreatedAt());

        images.delete(DeleteImageRequest.newBuilder().setName("docker.io/library/alpine:3").build());
        assertThat(codeOf(() -> images.get(GetImageRequest.newBuilder().setName("docker.io/library/alpine:3").build())))
                .isEqualTo(Status.Code.NOT_FOUND);

        assertThat(events.next().getTopic()).isEqualTo("/images/create");
        assertThat(events.next().getTopic()).isEqualTo("/images/create");
        var upd = events.next();
        assertThat(upd.getTopic()).isEqualTo("/images/update");
        assertThat(upd.getEvent().getTypeUrl()).isEqualTo("containerd.services.images.v1.ImageUpdate");
        assertThat(events.next().getTopic()).isEqualTo("/images/delete");
    }

    @Test
    void invalidImagesAreInvalidArgument() {
        var images = inNamespace(ImagesGrpc.newBlockingStub(daemon.channel()), "default");
        assertThat(codeOf(() -> images.create(CreateImageRequest.newBuilder().setImage(image("")).build())))
                .isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(codeOf(() -> images.create(CreateImageRequest.newBuilder().setImage(image("has space:1")).build())))
                .isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(codeOf(() -> images.create(CreateImageRequest.newBuilder().setImage(image("http://x/y")).build())))
                .isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(codeOf(() -> images.create(CreateImageRequest.newBuilder()
                .setImage(image("x/y:1").toBuilder().setTarget(Descriptor.newBuilder().setDigest(DIGEST).setSize(1))).build())))
                .isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(codeOf(() -> images.update(UpdateImageRequest.newBuilder().setImage(image("absent/x:1")).build())))
                .isEqualTo(Status.Code.NOT_FOUND);
        assertThat(codeOf(() -> images.list(ListImagesRequest.newBuilder().addFilters("name==").build())))
                .isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(codeOf(() -> ImagesGrpc.newBlockingStub(daemon.channel()).list(ListImagesRequest.getDefaultInstance())))
                .isEqualTo(Status.Code.FAILED_PRECONDITION);
    }

    @Test
    void realCtrListsLabelsTagsAndRemovesImages() {
        var images = inNamespace(ImagesGrpc.newBlockingStub(daemon.channel()), "ctrimg");
        images.create(CreateImageRequest.newBuilder().setImage(image("docker.io/library/busybox:1.36")).build());
        String a = daemon.address();
        var ls = Ctr.run(a, "-n", "ctrimg", "images", "ls").assertOk();
        assertThat(ls.stdout()).contains("docker.io/library/busybox:1.36").contains(DIGEST).contains("team=a");
        Ctr.run(a, "-n", "ctrimg", "images", "label", "docker.io/library/busybox:1.36", "tier=gold").assertOk();
        images.create(CreateImageRequest.newBuilder().setImage(image("docker.io/library/busybox:stable")).build());
        var q = Ctr.run(a, "-n", "ctrimg", "images", "ls", "-q").assertOk();
        assertThat(q.stdout().lines()).containsExactly("docker.io/library/busybox:1.36", "docker.io/library/busybox:stable");

        var busy = NamespacesGrpc.newBlockingStub(daemon.channel());
        assertThat(codeOf(() -> busy.delete(DeleteNamespaceRequest.newBuilder().setName("ctrimg").build())))
                .isEqualTo(Status.Code.FAILED_PRECONDITION);

        images.delete(DeleteImageRequest.newBuilder().setName("docker.io/library/busybox:1.36").build());
        images.delete(DeleteImageRequest.newBuilder().setName("docker.io/library/busybox:stable").build());
        assertThat(Ctr.run(a, "-n", "ctrimg", "images", "ls", "-q").assertOk().stdout()).isBlank();
        Ctr.run(a, "namespaces", "rm", "ctrimg").assertOk();
    }
}
