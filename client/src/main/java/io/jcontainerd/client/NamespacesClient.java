package io.jcontainerd.client;

import static io.jcontainerd.client.ClientException.call;

import io.grpc.Channel;
import io.jcontainerd.api.services.namespaces.v1.CreateNamespaceRequest;
import io.jcontainerd.api.services.namespaces.v1.DeleteNamespaceRequest;
import io.jcontainerd.api.services.namespaces.v1.GetNamespaceRequest;
import io.jcontainerd.api.services.namespaces.v1.ListNamespacesRequest;
import io.jcontainerd.api.services.namespaces.v1.NamespacesGrpc;
import io.jcontainerd.api.services.namespaces.v1.UpdateNamespaceRequest;
import java.util.List;
import java.util.Map;

/** containerd.services.namespaces.v1.Namespaces. */
public final class NamespacesClient {
    private final NamespacesGrpc.NamespacesBlockingStub stub;

    NamespacesClient(Channel channel) {
        this.stub = NamespacesGrpc.newBlockingStub(channel);
    }

    public record Namespace(String name, Map<String, String> labels) {}

    private static Namespace of(io.jcontainerd.api.services.namespaces.v1.Namespace n) {
        return new Namespace(n.getName(), Map.copyOf(n.getLabelsMap()));
    }

    public Namespace create(String name, Map<String, String> labels) {
        return of(call(() -> stub.create(CreateNamespaceRequest.newBuilder().setNamespace(
                io.jcontainerd.api.services.namespaces.v1.Namespace.newBuilder().setName(name).putAllLabels(labels)).build()))
                .getNamespace());
    }

    public Namespace get(String name) {
        return of(call(() -> stub.get(GetNamespaceRequest.newBuilder().setName(name).build())).getNamespace());
    }

    public List<Namespace> list(String... filters) {
        return call(() -> stub.list(ListNamespacesRequest.newBuilder().setFilter(String.join(",", filters)).build()))
                .getNamespacesList().stream().map(NamespacesClient::of).toList();
    }

    /** Sets labels (an empty value removes one); {@code fields} like {@code labels.x}, or none for all labels. */
    public Namespace update(String name, Map<String, String> labels, String... fields) {
        return of(call(() -> stub.update(UpdateNamespaceRequest.newBuilder()
                .setNamespace(io.jcontainerd.api.services.namespaces.v1.Namespace.newBuilder().setName(name).putAllLabels(labels))
                .setUpdateMask(Protos.mask(List.of(fields))).build())).getNamespace());
    }

    public void delete(String name) {
        call(() -> stub.delete(DeleteNamespaceRequest.newBuilder().setName(name).build()));
    }
}
