package io.jcontainerd.client.cli;

import io.jcontainerd.client.FieldPaths;
import com.google.protobuf.Any;
import io.jcontainerd.client.ClientException;
import io.jcontainerd.client.ContainerdClient;
import io.jcontainerd.client.ContainersClient;
import io.jcontainerd.client.Json;
import io.jcontainerd.client.TasksClient;
import io.jcontainerd.client.oci.Seccomp;
import io.jcontainerd.client.oci.Spec;
import io.jcontainerd.client.platforms.Platforms;
import io.jcontainerd.client.run.NewContainer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
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

        @Option(names = "--env-file", description = "specify additional container environment variables in a file(e.g. FOO=bar, one per line)")
        Path envFile;

        @Option(names = "--annotation", description = "specify additional OCI annotations (e.g. foo=bar)")
        List<String> annotations = new ArrayList<>();

        @Option(names = "--snapshotter-label", description = "labels added to the new snapshot for this container.")
        List<String> snapshotterLabels = new ArrayList<>();

        @Option(names = "--privileged", description = "run privileged container")
        boolean privileged;

        @Option(names = "--with-ns", description = "specify existing Linux namespaces to join at container runtime (format '<nstype>:<path>')")
        List<String> withNs = new ArrayList<>();

        @Option(names = "--allow-new-privs", description = "turn off OCI spec's NoNewPrivileges feature flag")
        boolean allowNewPrivs;

        @Option(names = "--memory-limit", description = "memory limit (in bytes) for the container (default: 0)")
        long memoryLimit;

        @Option(names = "--device", description = "file path to a device to add to the container; or a path to a directory tree of devices to add to the container")
        List<String> devices = new ArrayList<>();

        @Option(names = "--cap-add", description = "add Linux capabilities (Set capabilities with 'CAP_' prefix)")
        List<String> capAdd = new ArrayList<>();

        @Option(names = "--cap-drop", description = "drop Linux capabilities (Set capabilities with 'CAP_' prefix)")
        List<String> capDrop = new ArrayList<>();

        @Option(names = "--seccomp", description = "enable the default seccomp profile")
        boolean seccomp;

        @Option(names = "--seccomp-profile", description = "file path to custom seccomp profile. seccomp must be set to true, before using seccomp-profile")
        Path seccompProfile;

        @Option(names = "--apparmor-profile", description = "enable AppArmor with an existing custom profile")
        String apparmorProfile;

        @Option(names = "--rdt-class", description = "name of the RDT class to associate the container with. Specifies a Class of Service (CLOS) for cache and memory bandwidth management.")
        String rdtClass;

        @Option(names = "--no-pivot", description = "disable use of pivot-root (linux only)")
        boolean noPivot;

        @Option(names = "--cpu-quota", description = "Limit CPU CFS quota (default: -1)", defaultValue = "-1")
        long cpuQuota;

        @Option(names = "--cpu-period", description = "Limit CPU CFS period (default: 0)", defaultValue = "0")
        long cpuPeriod;

        @Option(names = "--rootfs-propagation", description = "set the propagation of the container rootfs")
        String rootfsPropagation;

        @Option(names = "--runtime-config-path", description = "optional runtime config path")
        String runtimeConfigPath;

        NewContainer.Options options(Misc.Base cmd, String image, String id, List<String> args) {
            return options(cmd, image, id, args, null);
        }

        /** The options of these flags and, for run, of its own ({@code run} null: containers create). */
        NewContainer.Options options(Misc.Base cmd, String image, String id, List<String> args, RunCmd.RunFlags run) {
            List<Spec.Mount> ms = new ArrayList<>();
            for (String m : mounts) ms.add(parseMount(m));
            Map<String, String> annos = new LinkedHashMap<>();
            for (String a : annotations) {
                int eq = a.indexOf('=');
                if (eq < 0) throw ClientException.invalidArgument("invalid key=value format annotation: %s", a);
                annos.put(a.substring(0, eq), a.substring(eq + 1));
            }
            for (String c : capAdd) requireCapPrefix(c);
            for (String c : capDrop) requireCapPrefix(c);
            if (!seccomp && seccompProfile != null) throw ClientException.invalidArgument("seccomp must be set to true, if using a custom seccomp-profile");
            double cpus = run == null ? 0 : run.cpus;
            if ((cpuQuota != -1 || cpuPeriod != 0) && cpus > 0) throw ClientException.invalidArgument("cpus and quota/period should be used separately");
            List<String[]> joins = new ArrayList<>();
            for (String ns : withNs) {
                String[] parts = ns.split(":", -1);
                if (parts.length != 2) throw ClientException.invalidArgument("joining a Linux namespace using --with-ns requires the format 'nstype:path'");
                if (!List.of("pid", "network", "uts", "mount", "user", "ipc", "cgroup").contains(parts[0])) {
                    throw ClientException.invalidArgument("the Linux namespace type specified in --with-ns is not valid: %s", parts[0]);
                }
                joins.add(parts);
            }

            // ctr's spec options after --net-host, in its order
            List<NewContainer.SpecOpt> opts = new ArrayList<>();
            if (privileged) opts.add(s -> s.withPrivileged().withAllDevicesAllowed().withHostDevices());
            if (!annos.isEmpty()) opts.add(s -> s.withAnnotations(annos));
            if (!capAdd.isEmpty()) opts.add(s -> s.withAddedCapabilities(capAdd));
            if (!capDrop.isEmpty()) opts.add(s -> s.withDroppedCapabilities(capDrop));
            if (seccomp) {
                opts.add(s -> s.withSeccomp(seccompProfile != null ? Seccomp.fromFile(seccompProfile)
                        : Seccomp.defaultProfile(s.boundingCapabilities())));
            }
            if (apparmorProfile != null && !apparmorProfile.isEmpty()) opts.add(s -> s.withApparmorProfile(apparmorProfile));
            if (cpus > 0) opts.add(s -> s.withCpuCfs((long) (cpus * 100000.0), 100000));
            if (run != null && run.cpuShares > 0) opts.add(s -> s.withCpuShares(run.cpuShares));
            if (cpuQuota != -1 || cpuPeriod != 0) opts.add(s -> s.withCpuCfs(cpuQuota, cpuPeriod));
            for (String[] j : joins) opts.add(s -> s.withLinuxNamespace(j[0], j[1]));
            if (allowNewPrivs) opts.add(Spec::withNewPrivileges);
            if (run != null && run.cgroup != null) opts.add(s -> s.withCgroup(run.cgroup));
            if (memoryLimit != 0) opts.add(s -> s.withMemoryLimit(memoryLimit));
            for (String d : devices) opts.add(s -> s.withDevices(d, "", "rwm"));
            if (rootfsPropagation != null && !rootfsPropagation.isEmpty()) opts.add(s -> s.withRootfsPropagation(rootfsPropagation));
            if (rdtClass != null && !rdtClass.isEmpty()) opts.add(s -> s.withRdt(rdtClass));

            return new NewContainer.Options(image, id, args, env, Jctr.labels(labels), ImagesCmd.snapshotter(cmd, snapshotter),
                    runtime, ms, netHost, tty, readOnly, cwd, envFile,
                    run == null || run.platform == null || run.platform.isEmpty() ? null : Platforms.only(Platforms.parse(run.platform)),
                    labelArgs(snapshotterLabels), run == null ? null : run.userNamespace(),
                    runtimeOptions(run), opts);
        }

        /**
         * The container's runtime options as ctr sets them: runc's (binary, root, systemd cgroups) for
         * io.containerd.runc.v2, else the runtime config path if given; null: the default.
         */
        Any runtimeOptions(RunCmd.RunFlags run) {
            String binary = run == null || run.runcBinary == null ? "" : run.runcBinary;
            boolean systemd = run != null && run.runcSystemdCgroup;
            if ((!binary.isEmpty() || systemd) && !NewContainer.DEFAULT_RUNTIME.equals(runtime)) {
                throw ClientException.invalidArgument("specifying runc-binary and runc-systemd-cgroup is only supported for \"io.containerd.runc.v2\" runtime");
            }
            if (NewContainer.DEFAULT_RUNTIME.equals(runtime)) {
                var o = io.jcontainerd.api.runc.v1.Options.newBuilder().setBinaryName(binary);
                if (systemd) {
                    if (run.cgroup == null || run.cgroup.isEmpty()) {
                        // runc maps "machine.slice:foo:deadbeef" to "/machine.slice/foo-deadbeef.scope"
                        throw ClientException.invalidArgument("option --runc-systemd-cgroup requires --cgroup to be set, e.g. \"machine.slice:foo:deadbeef\"");
                    }
                    o.setSystemdCgroup(true);
                }
                if (run != null && run.runcRoot != null) o.setRoot(run.runcRoot);
                return Any.newBuilder().setTypeUrl(NewContainer.RUNC_OPTIONS_TYPE).setValue(o.build().toByteString()).build();
            }
            if (runtimeConfigPath != null && !runtimeConfigPath.isEmpty()) {
                // runtimeoptions.v1.Options {config_path = 2}; no generated class for this one message
                var out = com.google.protobuf.ByteString.newOutput();
                var cos = com.google.protobuf.CodedOutputStream.newInstance(out);
                try {
                    cos.writeString(2, runtimeConfigPath);
                    cos.flush();
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
                return Any.newBuilder().setTypeUrl("runtimeoptions.v1.Options").setValue(out.toByteString()).build();
            }
            return null;
        }

        private static void requireCapPrefix(String cap) {
            if (!cap.startsWith("CAP_")) throw ClientException.invalidArgument("capabilities must be specified with 'CAP_' prefix");
        }
    }

    /** {@code k=v} arguments as ctr reads labels: a bare {@code k} is {@code k=true}. */
    static Map<String, String> labelArgs(List<String> kvs) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String kv : kvs) {
            int eq = kv.indexOf('=');
            if (eq < 0) m.put(kv, "true");
            else m.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
        return m;
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
