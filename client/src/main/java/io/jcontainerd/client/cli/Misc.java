package io.jcontainerd.client.cli;

import io.jcontainerd.client.FieldPaths;
import com.google.protobuf.Descriptors;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.jcontainerd.client.ContainerdClient;
import io.jcontainerd.client.ContentClient;
import io.jcontainerd.client.EventsClient;
import io.jcontainerd.client.IntrospectionClient;
import io.jcontainerd.client.Json;
import io.jcontainerd.client.LeasesClient;
import io.jcontainerd.client.Mount;
import io.jcontainerd.client.NamespacesClient;
import io.jcontainerd.client.SnapshotsClient;
import io.jcontainerd.client.VersionClient;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The non-image commands of jctr. */
final class Misc {
    private Misc() {}

    static String clientVersion() {
        Package p = Misc.class.getPackage();
        return p != null && p.getImplementationVersion() != null ? p.getImplementationVersion() : "0.1.0-SNAPSHOT";
    }

    /** Access to the root command's client and streams. */
    abstract static class Base implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        Jctr root() {
            return (Jctr) spec.root().userObject();
        }

        ContainerdClient client() {
            return root().client();
        }

        PrintWriter out() {
            return root().out;
        }

        @Override
        public Integer call() throws Exception {
            run();
            out().flush();
            return 0;
        }

        abstract void run() throws Exception;
    }

    /** A command that only groups subcommands. */
    abstract static class Group implements Runnable {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public void run() {
            throw new CommandLine.ParameterException(spec.commandLine(), "missing subcommand");
        }
    }

    @Command(name = "version", description = "print the client and server versions")
    static final class VersionCmd extends Base {
        @Override
        void run() {
            PrintWriter o = out();
            o.println("Client:");
            o.println("  Version:  " + clientVersion());
            o.println("  Java version: " + System.getProperty("java.version"));
            o.println();
            VersionClient.Version v = client().version();
            o.println("Server:");
            o.println("  Version:  " + v.version());
            o.println("  Revision: " + v.revision());
            o.println("  UUID: " + client().introspection().server().uuid());
        }
    }

    @Command(name = "plugins", aliases = "plugin", description = "provides information about containerd plugins",
            subcommands = Plugins.Ls.class)
    static final class Plugins extends Group {
        @Command(name = "list", aliases = "ls", description = "list containerd plugins")
        static final class Ls extends Base {
            @Option(names = {"-q", "--quiet"}, description = "print only the plugin ids")
            boolean quiet;

            @Option(names = {"-d", "--detailed"}, description = "print detailed information about each plugin")
            boolean detailed;

            @Parameters(description = "filters")
            List<String> filters = new ArrayList<>();

            @Override
            void run() {
                List<IntrospectionClient.PluginInfo> ps = client().introspection().plugins(filters.toArray(String[]::new));
                if (quiet) {
                    ps.forEach(p -> out().println(p.id()));
                    return;
                }
                if (detailed) {
                    for (IntrospectionClient.PluginInfo p : ps) {
                        out().println("Type:          " + p.type());
                        out().println("ID:            " + p.id());
                        if (!p.requires().isEmpty()) out().println("Requires:      " + String.join(", ", p.requires()));
                        if (!p.exports().isEmpty()) out().println("Exports:       " + Table.labels(p.exports()));
                        if (!p.ok()) out().println("Error:         " + p.initError());
                        out().println();
                    }
                    return;
                }
                Table t = new Table(4, 4).row("TYPE", "ID", "PLATFORMS", "STATUS");
                for (IntrospectionClient.PluginInfo p : ps) {
                    String platforms = p.platforms().isEmpty() ? "-" : String.join(",", p.platforms().stream().map(Object::toString).toList());
                    t.row(p.type(), p.id(), platforms, p.ok() ? "ok" : "error");
                }
                t.print(out());
            }
        }
    }

    @Command(name = "namespaces", aliases = {"namespace", "ns"}, description = "manage namespaces",
            subcommands = {Namespaces.Ls.class, Namespaces.Create.class, Namespaces.Rm.class, Namespaces.Label.class})
    static final class Namespaces extends Group {
        @Command(name = "list", aliases = "ls", description = "list namespaces")
        static final class Ls extends Base {
            @Option(names = {"-q", "--quiet"}, description = "print only the namespace name")
            boolean quiet;

            @Override
            void run() {
                List<NamespacesClient.Namespace> ns = client().namespaces().list();
                if (quiet) {
                    ns.forEach(n -> out().println(n.name()));
                    return;
                }
                Table t = new Table(1, 1).row("NAME", "LABELS");
                for (NamespacesClient.Namespace n : ns) t.row(n.name(), n.labels().isEmpty() ? "" : Table.labels(n.labels()));
                t.print(out());
            }
        }

        @Command(name = "create", aliases = "c", description = "create a new namespace")
        static final class Create extends Base {
            @Parameters(index = "0")
            String name;

            @Parameters(index = "1..*", description = "labels (k=v)")
            List<String> labels = new ArrayList<>();

            @Override
            void run() {
                client().namespaces().create(name, Jctr.labels(labels));
            }
        }

        @Command(name = "remove", aliases = "rm", description = "remove one or more namespaces")
        static final class Rm extends Base {
            @Parameters(arity = "1..*")
            List<String> names;

            @Override
            void run() {
                for (String n : names) {
                    client().namespaces().delete(n);
                    out().println(n);
                }
            }
        }

        @Command(name = "label", description = "set and clear labels for a namespace")
        static final class Label extends Base {
            @Parameters(index = "0")
            String name;

            @Parameters(index = "1..*")
            List<String> labels = new ArrayList<>();

            @Override
            void run() {
                Map<String, String> all = Jctr.labels(labels);
                Map<String, String> set = new LinkedHashMap<>(all);
                set.values().removeIf(String::isEmpty);
                client().namespaces().update(name, set, FieldPaths.labels(all.keySet()));
            }
        }
    }

    @Command(name = "content", description = "manage content",
            subcommands = {Content.Ls.class, Content.Get.class, Content.Ingest.class, Content.Active.class, Content.Rm.class,
                    Content.Label.class})
    static final class Content extends Group {
        @Command(name = "list", aliases = "ls", description = "list all blobs in the store")
        static final class Ls extends Base {
            @Option(names = {"-q", "--quiet"}, description = "print only the blob digest")
            boolean quiet;

            @Parameters(description = "filters")
            List<String> filters = new ArrayList<>();

            @Override
            void run() {
                List<ContentClient.Info> infos = client().content().list(filters.toArray(String[]::new));
                if (quiet) {
                    infos.forEach(i -> out().println(i.digest()));
                    return;
                }
                Table t = new Table(1, 1).row("DIGEST", "SIZE", "AGE", "LABELS");
                for (ContentClient.Info i : infos) {
                    t.row(i.digest(), Table.bytes(i.size()), age(i.createdAt()), Table.labels(i.labels()));
                }
                t.print(out());
            }
        }

        @Command(name = "get", description = "get the data for an object")
        static final class Get extends Base {
            @Parameters(index = "0")
            String digest;

            @Override
            void run() throws IOException {
                out().flush();
                try (var r = client().content().reader(digest); InputStream in = r.stream(0, 0)) {
                    OutputStream o = System.out;
                    in.transferTo(o);
                    o.flush();
                }
            }
        }

        @Command(name = "ingest", description = "accept content into the store (from stdin)")
        static final class Ingest extends Base {
            @Parameters(index = "0", description = "ref")
            String ref;

            @Option(names = "--expected-size")
            long size;

            @Option(names = "--expected-digest")
            String digest;

            @Override
            void run() throws Exception {
                byte[] data = System.in.readAllBytes();
                client().withLease(Duration.ofHours(1), c -> c.content().write(ref, data, digest, Map.of()));
            }
        }

        @Command(name = "active", description = "display active transfers")
        static final class Active extends Base {
            @Parameters(description = "filters")
            List<String> filters = new ArrayList<>();

            @Override
            void run() {
                Table t = new Table(1, 1).row("REF", "SIZE", "AGE");
                for (ContentClient.Status s : client().content().statuses(filters.toArray(String[]::new))) {
                    t.row(s.ref(), Table.bytes(s.offset()), age(s.startedAt()));
                }
                t.print(out());
            }
        }

        @Command(name = "delete", aliases = {"del", "remove", "rm"}, description = "permanently delete one or more blobs")
        static final class Rm extends Base {
            @Parameters(arity = "1..*")
            List<String> digests;

            @Override
            void run() {
                for (String d : digests) {
                    client().content().delete(d);
                    out().println(d);
                }
            }
        }

        @Command(name = "label", description = "add labels to content")
        static final class Label extends Base {
            @Parameters(index = "0")
            String digest;

            @Parameters(index = "1..*")
            List<String> labels = new ArrayList<>();

            @Override
            void run() {
                Map<String, String> all = Jctr.labels(labels);
                Map<String, String> set = new LinkedHashMap<>(all);
                set.values().removeIf(String::isEmpty);
                client().content().update(digest, set, FieldPaths.labels(all.keySet()));
            }
        }
    }

    @Command(name = "leases", description = "manage leases",
            subcommands = {Leases.Ls.class, Leases.Create.class, Leases.Rm.class})
    static final class Leases extends Group {
        @Command(name = "list", aliases = "ls", description = "list all active leases")
        static final class Ls extends Base {
            @Option(names = {"-q", "--quiet"}, description = "print only the lease id")
            boolean quiet;

            @Parameters(description = "filters")
            List<String> filters = new ArrayList<>();

            @Override
            void run() {
                List<LeasesClient.Lease> ls = client().leases().list(filters.toArray(String[]::new));
                if (quiet) {
                    ls.forEach(l -> out().println(l.id()));
                    return;
                }
                Table t = new Table(1, 1).row("ID", "CREATED AT", "LABELS");
                for (LeasesClient.Lease l : ls) t.row(l.id(), l.createdAt(), Table.labels(l.labels()));
                t.print(out());
            }
        }

        @Command(name = "create", description = "create lease")
        static final class Create extends Base {
            @Option(names = {"-i", "--id"}, description = "set the id label")
            String id;

            @Option(names = {"-x", "--expires"}, description = "expiration of lease (0 value will not expire)", defaultValue = "24h")
            String expires;

            @Parameters(description = "labels (k=v)")
            List<String> labels = new ArrayList<>();

            @Override
            void run() {
                Map<String, String> l = Jctr.labels(labels);
                Duration d = parseDuration(expires);
                if (!d.isZero()) {
                    l.put(ContainerdClient.LEASE_EXPIRE_LABEL, Instant.now().plus(d).truncatedTo(ChronoUnit.SECONDS).toString());
                }
                out().println(client().leases().create(id, l).id());
            }
        }

        @Command(name = "delete", aliases = {"remove", "rm"}, description = "delete a lease")
        static final class Rm extends Base {
            @Option(names = "--sync", description = "synchronously remove leases and all unreferenced resources")
            boolean sync;

            @Parameters(arity = "1..*")
            List<String> ids;

            @Override
            void run() {
                for (String i : ids) {
                    client().leases().delete(i, sync);
                    out().println(i);
                }
            }
        }
    }

    @Command(name = "events", aliases = "event", description = "display containerd events")
    static final class Events extends Base {
        @Parameters(description = "filters")
        List<String> filters = new ArrayList<>();

        @Override
        void run() {
            try (EventsClient.EventStream s = client().events().subscribe(filters.toArray(String[]::new))) {
                while (s.hasNext()) {
                    EventsClient.Event e = s.next();
                    out().println(e.timestamp() + " " + e.namespace() + " " + e.topic() + " " + EventJson.of(e));
                    out().flush();
                }
            }
        }
    }

    /** Event payloads as JSON with proto field names, for the known containerd event messages. */
    static final class EventJson {
        private static Map<String, Descriptors.Descriptor> types;

        static synchronized String of(EventsClient.Event e) {
            if (types == null) {
                types = new HashMap<>();
                for (Descriptors.FileDescriptor f : List.of(io.jcontainerd.api.services.images.v1.ImageCreate.getDescriptor().getFile(),
                        io.jcontainerd.api.events.ContainerCreate.getDescriptor().getFile(),
                        io.jcontainerd.api.events.ContentDelete.getDescriptor().getFile(),
                        io.jcontainerd.api.events.NamespaceCreate.getDescriptor().getFile(),
                        io.jcontainerd.api.events.SnapshotPrepare.getDescriptor().getFile(),
                        io.jcontainerd.api.events.TaskCreate.getDescriptor().getFile())) {
                    f.getMessageTypes().forEach(m -> types.put(m.getFullName(), m));
                }
            }
            Descriptors.Descriptor d = types.get(e.typeName());
            if (d == null) return "{}";
            try {
                return Json.write(toJson(DynamicMessage.parseFrom(d, e.payload().getValue())));
            } catch (InvalidProtocolBufferException bad) {
                return "{}";
            }
        }

        private static Object toJson(Message m) {
            Map<String, Object> o = new LinkedHashMap<>();
            m.getAllFields().forEach((f, v) -> o.put(f.getName(), value(f, v)));
            return o;
        }

        private static Object value(Descriptors.FieldDescriptor f, Object v) {
            if (f.isMapField()) {
                Map<String, Object> map = new LinkedHashMap<>();
                for (Object entry : (List<?>) v) {
                    Message me = (Message) entry;
                    Object k = me.getField(me.getDescriptorForType().findFieldByName("key"));
                    Descriptors.FieldDescriptor vf = me.getDescriptorForType().findFieldByName("value");
                    map.put(String.valueOf(k), value(vf, me.getField(vf)));
                }
                return map;
            }
            if (f.isRepeated()) return ((List<?>) v).stream().map(x -> single(x)).toList();
            return single(v);
        }

        private static Object single(Object v) {
            if (v instanceof Message m) return toJson(m);
            if (v instanceof Descriptors.EnumValueDescriptor ev) return ev.getName();
            if (v instanceof com.google.protobuf.ByteString bs) return java.util.Base64.getEncoder().encodeToString(bs.toByteArray());
            return v;
        }
    }

    @Command(name = "snapshots", aliases = "snapshot", description = "manage snapshots",
            subcommands = {Snapshots.Ls.class, Snapshots.Info.class, Snapshots.Rm.class, Snapshots.Prepare.class,
                    Snapshots.View.class, Snapshots.Commit.class, Snapshots.Usage.class, Snapshots.Label.class, Snapshots.Mounts.class})
    static final class Snapshots extends Group {
        @Option(names = "--snapshotter", description = "snapshotter name (env CONTAINERD_SNAPSHOTTER)", scope = CommandLine.ScopeType.INHERIT)
        String snapshotter;

        abstract static class SnapBase extends Base {
            SnapshotsClient sn() {
                Snapshots parent = (Snapshots) spec.parent().userObject();
                String s = parent.snapshotter != null ? parent.snapshotter : root().env.getOrDefault("CONTAINERD_SNAPSHOTTER", "overlayfs");
                return client().snapshots(s);
            }
        }

        @Command(name = "list", aliases = "ls", description = "list snapshots")
        static final class Ls extends SnapBase {
            @Override
            void run() {
                Table t = new Table(1, 1).row("KEY", "PARENT", "KIND");
                for (SnapshotsClient.Info i : sn().list()) t.row(i.name(), i.parent(), i.kind().name().charAt(0) + i.kind().name().substring(1).toLowerCase());
                t.print(out());
            }
        }

        @Command(name = "info", description = "get info about a snapshot")
        static final class Info extends SnapBase {
            @Parameters(index = "0")
            String key;

            @Override
            void run() {
                SnapshotsClient.Info i = sn().stat(key);
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("Kind", i.kind().name().charAt(0) + i.kind().name().substring(1).toLowerCase());
                m.put("Name", i.name());
                if (!i.parent().isEmpty()) m.put("Parent", i.parent());
                if (!i.labels().isEmpty()) m.put("Labels", new LinkedHashMap<>(i.labels()));
                m.put("Created", String.valueOf(i.createdAt()));
                m.put("Updated", String.valueOf(i.updatedAt()));
                out().println(Json.write(m));
            }
        }

        @Command(name = "delete", aliases = {"del", "remove", "rm"}, description = "remove snapshots")
        static final class Rm extends SnapBase {
            @Parameters(arity = "1..*")
            List<String> keys;

            @Override
            void run() {
                for (String k : keys) sn().remove(k);
            }
        }

        @Command(name = "prepare", description = "prepare a snapshot from a committed snapshot")
        static final class Prepare extends SnapBase {
            @Parameters(index = "0")
            String key;

            @Parameters(index = "1", arity = "0..1")
            String parent;

            @Option(names = "--target", description = "mount target path, will print mount, if provided")
            String target;

            @Override
            void run() {
                List<Mount> ms = sn().prepare(key, parent, Map.of());
                if (target != null) printMounts(out(), target, ms);
            }
        }

        @Command(name = "view", description = "create a read-only snapshot from a committed snapshot")
        static final class View extends SnapBase {
            @Parameters(index = "0")
            String key;

            @Parameters(index = "1", arity = "0..1")
            String parent;

            @Option(names = "--target")
            String target;

            @Override
            void run() {
                List<Mount> ms = sn().view(key, parent, Map.of());
                if (target != null) printMounts(out(), target, ms);
            }
        }

        @Command(name = "mounts", aliases = "m", description = "mount gets mount commands for the snapshots")
        static final class Mounts extends SnapBase {
            @Parameters(index = "0")
            String target;

            @Parameters(index = "1")
            String key;

            @Override
            void run() {
                printMounts(out(), target, sn().mounts(key));
            }
        }

        @Command(name = "commit", description = "commit an active snapshot into the provided name")
        static final class Commit extends SnapBase {
            @Parameters(index = "0")
            String name;

            @Parameters(index = "1")
            String key;

            @Override
            void run() {
                sn().commit(name, key, Map.of());
            }
        }

        @Command(name = "usage", description = "usage snapshots")
        static final class Usage extends SnapBase {
            @Parameters(description = "keys (none: all)")
            List<String> keys = new ArrayList<>();

            @Override
            void run() {
                Table t = new Table(1, 1).row("KEY", "SIZE", "INODES");
                List<String> ks = keys.isEmpty() ? sn().list().stream().map(SnapshotsClient.Info::name).toList() : keys;
                for (String k : ks) {
                    SnapshotsClient.Usage u = sn().usage(k);
                    t.row(k, Table.bytes(u.size()), u.inodes());
                }
                t.print(out());
            }
        }

        @Command(name = "label", description = "add labels to a snapshot")
        static final class Label extends SnapBase {
            @Parameters(index = "0")
            String key;

            @Parameters(index = "1..*")
            List<String> labels = new ArrayList<>();

            @Override
            void run() {
                Map<String, String> all = Jctr.labels(labels);
                Map<String, String> set = new LinkedHashMap<>(all);
                set.values().removeIf(String::isEmpty);
                sn().update(key, set, FieldPaths.labels(all.keySet()));
            }
        }

        static void printMounts(PrintWriter out, String target, List<Mount> ms) {
            for (Mount m : ms) {
                out.println("mount -t " + m.type() + " " + m.source() + " " + target + " -o " + String.join(",", m.options()));
            }
        }
    }

    static String age(Instant t) {
        if (t == null) return "-";
        Duration d = Duration.between(t, Instant.now());
        if (d.toSeconds() < 60) return d.toSeconds() + " seconds";
        if (d.toMinutes() < 60) return d.toMinutes() + " minutes";
        if (d.toHours() < 48) return d.toHours() + " hours";
        return d.toDays() + " days";
    }

    /** Go-style durations: 1h30m, 10s, 500ms, 0. */
    static Duration parseDuration(String s) {
        if (s.equals("0")) return Duration.ZERO;
        var m = java.util.regex.Pattern.compile("(\\d+(?:\\.\\d+)?)(ns|us|ms|s|m|h)").matcher(s);
        long nanos = 0;
        int end = 0;
        while (m.find()) {
            if (m.start() != end) break;
            end = m.end();
            double v = Double.parseDouble(m.group(1));
            long unit = switch (m.group(2)) {
                case "ns" -> 1L;
                case "us" -> 1_000L;
                case "ms" -> 1_000_000L;
                case "s" -> 1_000_000_000L;
                case "m" -> 60_000_000_000L;
                default -> 3_600_000_000_000L;
            };
            nanos += (long) (v * unit);
        }
        if (end != s.length() || end == 0) throw new CommandLine.TypeConversionException("invalid duration " + s);
        return Duration.ofNanos(nanos);
    }
}
