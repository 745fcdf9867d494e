package io.jcontainerd.services.namespaces;

import com.google.protobuf.Empty;
import io.grpc.stub.StreamObserver;
import io.jcontainerd.api.events.NamespaceCreate;
import io.jcontainerd.api.events.NamespaceDelete;
import io.jcontainerd.api.events.NamespaceUpdate;
import io.jcontainerd.api.services.namespaces.v1.CreateNamespaceRequest;
import io.jcontainerd.api.services.namespaces.v1.CreateNamespaceResponse;
import io.jcontainerd.api.services.namespaces.v1.DeleteNamespaceRequest;
import io.jcontainerd.api.services.namespaces.v1.GetNamespaceRequest;
import io.jcontainerd.api.services.namespaces.v1.GetNamespaceResponse;
import io.jcontainerd.api.services.namespaces.v1.ListNamespacesRequest;
import io.jcontainerd.api.services.namespaces.v1.ListNamespacesResponse;
import io.jcontainerd.api.services.namespaces.v1.Namespace;
import io.jcontainerd.api.services.namespaces.v1.NamespacesGrpc;
import io.jcontainerd.api.services.namespaces.v1.UpdateNamespaceRequest;
import io.jcontainerd.api.services.namespaces.v1.UpdateNamespaceResponse;
import io.jcontainerd.errdefs.Errdefs;
import io.jcontainerd.events.Publisher;
import io.jcontainerd.filters.Filter;
import io.jcontainerd.metadata.MetadataDb;
import io.jcontainerd.metadata.NamespaceStore;
import io.jcontainerd.plugin.GrpcService;
import io.jcontainerd.plugin.PluginProvider;
import io.jcontainerd.plugin.PluginType;
import io.jcontainerd.plugin.Registration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** containerd.services.namespaces.v1.Namespaces over the metadata database. */
public final class NamespacesService extends NamespacesGrpc.NamespacesImplBase implements GrpcService {

    private final MetadataDb db;
    private final Publisher events;

    NamespacesService(MetadataDb db, Publisher events) {
        this.db = db;
        this.events = events;
    }

    @Override
    public void get(GetNamespaceRequest req, StreamObserver<GetNamespaceResponse> out) {
        Map<String, String> labels = db.read(tx -> db.namespaces(tx).labels(req.getName()));
        out.onNext(GetNamespaceResponse.newBuilder()
                .setNamespace(Namespace.newBuilder().setName(req.getName()).putAllLabels(labels)).build());
        out.onCompleted();
    }

    @Override
    public void list(ListNamespacesRequest req, StreamObserver<ListNamespacesResponse> out) {
        Filter filter = Filter.parse(req.getFilter());
        ListNamespacesResponse.Builder resp = ListNamespacesResponse.newBuilder();
        db.read(tx -> {
            NamespaceStore store = db.namespaces(tx);
            for (String name : store.list()) {
                Map<String, String> labels = store.labels(name);
                if (filter.match(path -> field(name, labels, path))) {
                    resp.addNamespaces(Namespace.newBuilder().setName(name).putAllLabels(labels));
                }
            }
            return null;
        });
        out.onNext(resp.build());
        out.onCompleted();
    }

    private static Optional<String> field(String name, Map<String, String> labels, List<String> path) {
        if (path.isEmpty()) return Optional.empty();
        return switch (path.getFirst()) {
            case "name" -> path.size() == 1 ? Optional.of(name) : Optional.empty();
            case "labels" -> path.size() == 1 ? Optional.empty()
                    : Optional.ofNullable(labels.get(String.join(".", path.subList(1, path.size()))));
            default -> Optional.empty();
        };
    }

    @Override
    public void create(CreateNamespaceRequest req, StreamObserver<CreateNamespaceResponse> out) {
        Namespace ns = req.getNamespace();
        db.update(tx -> {
            db.namespaces(tx).create(ns.getName(), ns.getLabelsMap());
            return null;
        });
        events.publish(ns.getName(), "/namespaces/create",
                NamespaceCreate.newBuilder().setName(ns.getName()).putAllLabels(ns.getLabelsMap()).build());
        out.onNext(CreateNamespaceResponse.newBuilder().setNamespace(ns).build());
        out.onCompleted();
    }

    @Override
    public void update(UpdateNamespaceRequest req, StreamObserver<UpdateNamespaceResponse> out) {
        Namespace ns = req.getNamespace();
        List<String> paths = req.hasUpdateMask() ? req.getUpdateMask().getPathsList() : List.of();
        Map<String, String> after = db.update(tx -> {
            NamespaceStore store = db.namespaces(tx);
            if (paths.isEmpty()) {
                replaceLabels(store, ns);
            } else {
                for (String path : paths) {
                    if (path.equals("labels")) {
                        replaceLabels(store, ns);
                    } else if (path.startsWith("labels.")) {
                        String key = path.substring("labels.".length());
                        store.setLabel(ns.getName(), key, ns.getLabelsOrDefault(key, ""));
                    } else {
                        throw Errdefs.invalidArgument("cannot update \"%s\" field", path);
                    }
                }
            }
            return store.labels(ns.getName());
        });
        Namespace updated = Namespace.newBuilder().setName(ns.getName()).putAllLabels(after).build();
        events.publish(ns.getName(), "/namespaces/update",
                NamespaceUpdate.newBuilder().setName(ns.getName()).putAllLabels(after).build());
        out.onNext(UpdateNamespaceResponse.newBuilder().setNamespace(updated).build());
        out.onCompleted();
    }

    private static void replaceLabels(NamespaceStore store, Namespace ns) throws java.sql.SQLException {
        for (String key : store.labels(ns.getName()).keySet()) {
            if (!ns.getLabelsMap().containsKey(key)) store.setLabel(ns.getName(), key, "");
        }
        for (var e : ns.getLabelsMap().entrySet()) store.setLabel(ns.getName(), e.getKey(), e.getValue());
    }

    @Override
    public void delete(DeleteNamespaceRequest req, StreamObserver<Empty> out) {
        db.update(tx -> {
            db.namespaces(tx).delete(req.getName(), db.occupancy());
            return null;
        });
        events.publish(req.getName(), "/namespaces/delete", NamespaceDelete.newBuilder().setName(req.getName()).build());
        out.onNext(Empty.getDefaultInstance());
        out.onCompleted();
    }

    public static final class Provider implements PluginProvider {
        @Override
        public List<Registration> registrations() {
            return List.of(Registration.of(PluginType.GRPC, "namespaces", List.of(PluginType.METADATA),
                    ic -> new NamespacesService(ic.plugins().single(PluginType.METADATA, MetadataDb.class), ic.events())));
        }
    }
}
