package io.jcontainerd.client.cli;

import io.jcontainerd.client.FieldPaths;
import com.google.protobuf.Any;
import io.jcontainerd.client.ClientException;
import io.jcontainerd.client.ContainerdClient;
import io.jcontainerd.client.ContainersClient;
import io.jcontainerd.client.Json;
import io.jcontainerd.client.TasksClient;
import io.jcontainerd.client.oci.Spec;
import io.jcontainerd.client.run.NewContainer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code jctr containers ...}. */
@Command(name = "containers", aliases = {"c", "container"}, description = "manage containers",
        subcommands = {ContainersCmd.Create.class, ContainersCmd.Rm.class, ContainersCmd.Info.class, ContainersCmd.Ls.class,
                ContainersCmd.Label.class})
final class ContainersCmd extends Misc.Group {

    /** The container flags ctr's run and containers create share (the ones jctr supports). */
    static final class ContainerFlags {
        @Option(names = "--snapshotter", description = "snapshotter name (env CONTAINERD_SNAPSHOTTER)")
        String snapshotter;

        @Option(names = "--env", description = "specify additional container environment variables (e.g. FOO=bar)")
        List<String> env = new ArrayList<>();

        @Option(names = "--label", description = "specify additional labels (e.g. foo=bar)")
        List<String> labels = new ArrayList<>();

        @Option(names = "--mount", description = "specify additional container mount (e.g. type=bind,src=/tmp,dst=/host,options=rbind:ro)")
        List<String> mounts = new ArrayList<>();

        @Option(names = "--net-host", description = "enable host networking for the container")
        boolean netHost;

        @Option(names = {"-t", "--tty"}, description = "allocate a TTY for the container")
        boolean tty;

        @Option(names = "--runtime", description = "runtime name", defaultValue = NewContainer.DEFAULT_RUNTIME)
        String runtime;

        @Option(names = "--read-only", description = "set the containers filesystem as readonly")
        boolean readOnly;

        @Option(names = "--cwd", description = "specify the working directory of the process")
        String cwd;

        NewContainer.Options options(Misc.Base cmd, String image, String id, List<String> args) {
            List<Spec.Mount> ms = new ArrayList<>();
            for (String m : mounts) ms.add(parseMount(m));
            return new NewContainer.Options(image, id, args, env, Jctr.labels(labels), ImagesCmd.snapshotter(cmd, snapshotter),
                    runtime, ms, netHost, tty, readOnly, cwd);
        }
    }

    /** {@code type=bind,src=/a,dst=/b,options=rbind:ro}, as ctr's --mount. */
    static Spec.Mount parseMount(String s) {
        String type = null;
        String src = null;
        String dst = null;
        List<String> opts = List.of();
        for (String field : s.split(",")) {
            int eq = field.indexOf('=');
            if (eq < 0) throw ClientException.invalidArgument("invalid mount specification: expected key=val");
            String v = field.substring(eq + 1);
            switch (field.substring(0, eq)) {
                case "type" -> type = v;
                case "source", "src" -> src = v;
                case "destination", "dst" -> dst = v;
                case "options" -> opts = List.of(v.split(":"));
                default -> throw ClientException.invalidArgument("unknown mount option %s", field.substring(0, eq));
            }
        }
        return new Spec.Mount(dst, type, src, opts);
    }

    @Command(name = "create", description = "create container")
    static final class Create extends Misc.Base {
        @Mixin
        ContainerFlags flags = new ContainerFlags();

        @Parameters(index = "0", paramLabel = "IMAGE")
        String image;

        @Parameters(index = "1", paramLabel = "CONTAINER")
        String id;

        @Parameters(index = "2..*", paramLabel = "COMMAND")
        List<String> args = new ArrayList<>();

        @Override
        void run() throws Exception {
            NewContainer.create(client(), flags.options(this, image, id, args));
        }
    }

    @Command(name = "list", aliases = "ls", description = "list containers")
    static final class Ls extends Misc.Base {
        @Option(names = {"-q", "--quiet"}, description = "print only the container id")
        boolean quiet;

        @Parameters(description = "filters")
        List<String> filters = new ArrayList<>();

        @Override
        void run() {
            List<ContainersClient.Container> cs = client().containers().list(filters.toArray(String[]::new));
            if (quiet) {
                cs.forEach(c -> out().println(c.id()));
                return;
            }
            Table t = new Table(4, 4).row("CONTAINER", "IMAGE", "RUNTIME", "");
            for (ContainersClient.Container c : cs) t.row(c.id(), c.image().isEmpty() ? "-" : c.image(), c.runtime(), "");
            t.print(out());
        }
    }

    @Command(name = "info", description = "get info about a container")
    static final class Info extends Misc.Base {
        @Option(names = "--spec", description = "only display the spec")
        boolean specOnly;

        @Parameters(index = "0", paramLabel = "CONTAINER")
        String id;

        @Override
        void run() {
            ContainersClient.Container c = client().containers().get(id);
            Object spec = c.spec() == null || c.spec().getValue().isEmpty() ? null
                    : Json.parse(c.spec().getValue().toString(StandardCharsets.UTF_8));
            if (specOnly) {
                out().println(Json.pretty(spec, "    "));
                return;
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("ID", c.id());
            m.put("Labels", c.labels().isEmpty() ? null : new TreeMap<>(c.labels()));
            m.put("Image", c.image());
            Map<String, Object> rt = new LinkedHashMap<>();
            rt.put("Name", c.runtime());
            rt.put("Options", any(c.runtimeOptions()));
            m.put("Runtime", rt);
            m.put("SnapshotKey", c.snapshotKey());
            m.put("Snapshotter", c.snapshotter());
            m.put("CreatedAt", time(c.createdAt()));
            m.put("UpdatedAt", time(c.updatedAt()));
            Map<String, Object> ext = null;
            if (!c.extensions().isEmpty()) {
                ext = new TreeMap<>();
                for (var e : c.extensions().entrySet()) ext.put(e.getKey(), any(e.getValue()));
            }
            m.put("Extensions", ext);
            if (spec != null) m.put("Spec", spec);
            out().println(Json.pretty(m, "    "));
        }

        /** types.Any as Go encodes it: type_url, and value in base64 unless empty. */
        private static Map<String, Object> any(Any a) {
            if (a == null) return null;
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("type_url", a.getTypeUrl());
            if (!a.getValue().isEmpty()) m.put("value", Base64.getEncoder().encodeToString(a.getValue().toByteArray()));
            return m;
        }

        private static String time(Instant i) {
            return i == null ? "0001-01-01T00:00:00Z" : i.toString();
        }
    }

    @Command(name = "delete", aliases = {"del", "remove", "rm"}, description = "delete one or more existing containers")
    static final class Rm extends Misc.Base {
        @Option(names = "--keep-snapshot", description = "do not clean up snapshot with container")
        boolean keepSnapshot;

        @Parameters(arity = "1..*", paramLabel = "CONTAINER")
        List<String> ids;

        @Override
        void run() {
            ClientException first = null;
            for (String id : ids) {
                try {
                    delete(client(), id, !keepSnapshot);
                } catch (ClientException e) {
                    if (ids.size() > 1) root().err.println("jctr: failed to delete container \"" + id + "\": " + e.getMessage());
                    if (first == null) first = e;
                }
            }
            if (first != null) throw first;
        }
    }

    /** Deletes a container as ctr does: its task first if stopped or created, then its snapshot, then the record. */
    static void delete(ContainerdClient client, String id, boolean snapshotCleanup) {
        ContainersClient.Container c = client.containers().get(id);
        TasksClient tasks = client.tasks();
        TasksClient.Process p = null;
        try {
            p = tasks.get(id, null);
        } catch (ClientException e) {
            if (!e.isNotFound()) throw e;
        }
        if (p != null) {
            if (p.status() != TasksClient.Status.STOPPED && p.status() != TasksClient.Status.CREATED) {
                throw ClientException.failedPrecondition("cannot delete a non stopped container: {%s %d}", p.status().name().toLowerCase(), p.exitStatus());
            }
            tasks.delete(id);
        }
        if (snapshotCleanup && !c.snapshotKey().isEmpty()) {
            if (c.snapshotter().isEmpty()) throw ClientException.invalidArgument("container.Snapshotter must be set to cleanup rootfs snapshot");
            try {
                client.snapshots(c.snapshotter()).remove(c.snapshotKey());
            } catch (ClientException e) {
                if (!e.isNotFound()) throw e;
            }
        }
        client.containers().delete(id);
    }

    @Command(name = "label", description = "set and clear labels for a container")
    static final class Label extends Misc.Base {
        @Parameters(index = "0", paramLabel = "CONTAINER")
        String id;

        @Parameters(index = "1..*", description = "labels (k=v; k= clears)")
        List<String> labels = new ArrayList<>();

        @Override
        void run() {
            Map<String, String> l = Jctr.labels(labels);
            Map<String, String> set = new LinkedHashMap<>(l);
            set.values().removeIf(String::isEmpty);
            ContainersClient.Container c = client().containers().get(id);
            var update = new ContainersClient.Container(id, set, c.image(), c.runtime(), c.runtimeOptions(), c.spec(),
                    c.snapshotter(), c.snapshotKey(), null, null, c.extensions());
            ContainersClient.Container r = client().containers().update(update,
                    FieldPaths.labels(l.keySet()));
            out().println(String.join(",", new TreeMap<>(r.labels()).entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList()));
        }
    }
}
