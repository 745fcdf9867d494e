package io.jcontainerd.it;

import static io.jcontainerd.testing.DaemonProcess.inNamespace;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.FieldMask;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.jcontainerd.api.services.containers.v1.Container;
import io.jcontainerd.api.services.containers.v1.ContainersGrpc;
import io.jcontainerd.api.services.containers.v1.CreateContainerRequest;
import io.jcontainerd.api.services.containers.v1.DeleteContainerRequest;
import io.jcontainerd.api.services.containers.v1.GetContainerRequest;
import io.jcontainerd.api.services.containers.v1.ListContainersRequest;
import io.jcontainerd.api.services.containers.v1.UpdateContainerRequest;
import io.jcontainerd.testing.Ctr;
import io.jcontainerd.testing.DaemonProcess;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The Containers service over gRPC and through the real ctr. */
class ContainersServiceTest {
    static final String SPEC_URL = "types.containerd.io/opencontainers/runtime-spec/1/Spec";
    static DaemonProcess daemon;

    @BeforeAll
    static void start() throws Exception {
        daemon = DaemonProcess.start();
    }

    @AfterAll
    static void stop() {
        if (daemon != null) daemon.close();
    }

    static Any spec(String json) {
        return Any.newBuilder().setTypeUrl(SPEC_URL).setValue(ByteString.copyFrom(json, StandardCharsets.UTF_8)).build();
    }

    static Container container(String id) {
        return Container.newBuilder().setId(id).setImage("docker.io/library/busybox:latest")
                .setRuntime(Container.Runtime.newBuilder().setName("io.containerd.runc.v2"))
                .setSpec(spec("{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"sh\"]}}"))
                .putLabels("app", "web").putExtensions("ext", Any.newBuilder().setTypeUrl("x.y").build())
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
    void lifecycleOverGrpc() {
        var cs = inNamespace(ContainersGrpc.newBlockingStub(daemon.channel()), "ctrs");
        var c = cs.create(CreateContainerRequest.newBuilder().setContainer(container("web-1")).build()).getContainer();
        assertThat(c.getCreatedAt().getSeconds()).isPositive();
        assertThat(c.getSpec().getTypeUrl()).isEqualTo(SPEC_URL);
        assertThat(codeOf(() -> cs.create(CreateContainerRequest.newBuilder().setContainer(container("web-1")).build())))
                .isEqualTo(Status.Code.ALREADY_EXISTS);
        cs.create(CreateContainerRequest.newBuilder().setContainer(container("db-1").toBuilder().putLabels("app", "db")).build());

        assertThat(cs.list(ListContainersRequest.newBuilder().addFilters("labels.app==db").build()).getContainersList())
                .extracting(Container::getId).containsExactly("db-1");
        assertThat(cs.list(ListContainersRequest.newBuilder().addFilters("runtime.name==io.containerd.runc.v2").build()).getContainersCount())
                .isEqualTo(2);
        var streamed = cs.listStream(ListContainersRequest.getDefaultInstance());
        int n = 0;
        while (streamed.hasNext()) {
            streamed.next();
            n++;
        }
        assertThat(n).isEqualTo(2);

        var u = cs.update(UpdateContainerRequest.newBuilder()
                .setContainer(Container.newBuilder().setId("web-1").putLabels("tier", "1").setImage("other:1"))
                .setUpdateMask(FieldMask.newBuilder().addPaths("labels.tier").addPaths("image")).build()).getContainer();
        assertThat(u.getLabelsMap()).containsEntry("tier", "1").containsEntry("app", "web");
        assertThat(u.getImage()).isEqualTo("other:1");
        assertThat(codeOf(() -> cs.update(UpdateContainerRequest.newBuilder()
                .setContainer(container("web-1").toBuilder().setSnapshotter("native")).build())))
                .isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(codeOf(() -> cs.update(UpdateContainerRequest.newBuilder().setContainer(Container.newBuilder().setId("web-1"))
                .setUpdateMask(FieldMask.newBuilder().addPaths("runtime")).build()))).isEqualTo(Status.Code.INVALID_ARGUMENT);

        cs.delete(DeleteContainerRequest.newBuilder().setId("web-1").build());
        cs.delete(DeleteContainerRequest.newBuilder().setId("db-1").build());
        assertThat(codeOf(() -> cs.get(GetContainerRequest.newBuilder().setId("web-1").build()))).isEqualTo(Status.Code.NOT_FOUND);
    }

    @Test
    void validation() {
        var cs = inNamespace(ContainersGrpc.newBlockingStub(daemon.channel()), "default");
        assertThat(codeOf(() -> cs.create(CreateContainerRequest.newBuilder().setContainer(container("bad id")).build())))
                .isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(codeOf(() -> cs.create(CreateContainerRequest.newBuilder().setContainer(container("x").toBuilder().clearSpec()).build())))
                .isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(codeOf(() -> cs.create(CreateContainerRequest.newBuilder().setContainer(container("x").toBuilder().clearRuntime()).build())))
                .isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(codeOf(() -> cs.create(CreateContainerRequest.newBuilder().setContainer(container("x").toBuilder().setSnapshotKey("k")).build())))
                .isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(codeOf(() -> cs.delete(DeleteContainerRequest.newBuilder().setId("absent").build()))).isEqualTo(Status.Code.NOT_FOUND);
    }

    @Test
    void realCtrListsInfoLabelsAndRemoves() {
        var cs = inNamespace(ContainersGrpc.newBlockingStub(daemon.channel()), "ctrc");
        cs.create(CreateContainerRequest.newBuilder().setContainer(container("box")).build());
        String a = daemon.address();
        assertThat(Ctr.run(a, "-n", "ctrc", "containers", "ls").assertOk().stdout())
                .containsPattern("box\\s+docker.io/library/busybox:latest\\s+io.containerd.runc.v2");
        var info = Ctr.run(a, "-n", "ctrc", "containers", "info", "box").assertOk().stdout();
        assertThat(info).contains("\"ID\": \"box\"").contains("\"ociVersion\": \"1.0.2\"");
        Ctr.run(a, "-n", "ctrc", "containers", "label", "box", "owner=me").assertOk();
        assertThat(Ctr.run(a, "-n", "ctrc", "containers", "ls", "labels.owner==me").assertOk().stdout()).contains("box");
        Ctr.run(a, "-n", "ctrc", "containers", "rm", "box").assertOk();
        assertThat(Ctr.run(a, "-n", "ctrc", "containers", "ls", "-q").assertOk().stdout()).isBlank();
    }
}
