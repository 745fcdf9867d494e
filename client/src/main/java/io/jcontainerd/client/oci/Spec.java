package io.jcontainerd.client.oci;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import io.jcontainerd.client.ClientException;
import io.jcontainerd.client.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * An OCI runtime spec (Linux) as containerd's client builds one: {@link #defaults} is containerd's
 * default Unix spec, the {@code with*} methods are the spec options ctr applies, {@link #toJson}
 * writes the runtime-spec's JSON field names in the spec's field order, leaving out what is unset.
 */
public final class Spec {
    public static final String TYPE_URL = "types.containerd.io/opencontainers/runtime-spec/1/Spec";
    /** The runtime-spec version containerd 1.6 writes. */
    public static final String VERSION = "1.0.2-dev";
    public static final List<String> DEFAULT_UNIX_ENV = List.of("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");

    public record Mount(String destination, String type, String source, List<String> options) {
        public Mount {
            options = options == null ? List.of() : List.copyOf(options);
        }
    }

    public record Namespace(String type, String path) {}

    public record DeviceRule(boolean allow, String type, Long major, Long minor, String access) {}

    public record Rlimit(String type, long hard, long soft) {}

    /** A device node the runtime creates in the container ({@code linux.devices}). */
    public record Device(String path, String type, long major, long minor, Long fileMode, Long uid, Long gid) {}

    /** One range of a user namespace's uid or gid map. */
    public record IdMapping(long containerId, long hostId, long size) {
        /** {@code container-id:host-id:size}, as ctr's --uidmap/--gidmap (decimal, 0x hex or 0 octal). */
        public static IdMapping parse(String s) {
            String[] p = s.split(":", -1);
            if (p.length != 3) throw ClientException.invalidArgument("user namespace mappings require the format `container-id:host-id:size`");
            return new IdMapping(uint32(p[0], "container id"), uint32(p[1], "host id"), uint32(p[2], "size"));
        }

        private static long uint32(String v, String what) {
            try {
                long n = v.startsWith("0x") || v.startsWith("0X") ? Long.parseLong(v.substring(2), 16)
                        : v.length() > 1 && v.startsWith("0") ? Long.parseLong(v.substring(1), 8) : Long.parseLong(v);
                if (n >= 0 && n <= 0xffffffffL && !v.startsWith("+") && !v.startsWith("-")) return n;
            } catch (NumberFormatException ignored) {
                // reported below
            }
            throw ClientException.invalidArgument("invalid %s for user namespace remapping: %s", what, v);
        }
    }

    /** Reads files of the container's root file system (null: no such file), for users and groups. */
    @FunctionalInterface
    public interface RootFiles {
        byte[] read(String path) throws IOException;
    }

    private boolean terminal;
    private long uid;
    private long gid;
    private List<Long> additionalGids;
    private List<String> args;
    private List<String> env;
    private String cwd = "/";
    private List<String> capabilities;
    private final List<Rlimit> rlimits = new ArrayList<>();
    private boolean noNewPrivileges;
    private String apparmorProfile;
    private String rootPath;
    private boolean rootReadonly;
    private String hostname;
    private final List<Mount> mounts = new ArrayList<>();
    private Map<String, String> annotations;
    private final List<IdMapping> uidMappings = new ArrayList<>();
    private final List<IdMapping> gidMappings = new ArrayList<>();
    private final List<DeviceRule> devices = new ArrayList<>();
    private Long memoryLimit;
    private Long cpuShares;
    private Long cpuQuota;
    private Long cpuPeriod;
    private String cgroupsPath;
    private final List<Namespace> namespaces = new ArrayList<>();
    private final List<Device> linuxDevices = new ArrayList<>();
    private Map<String, Object> seccomp;
    private String rootfsPropagation;
    private String rdtClosId;
    private final List<String> maskedPaths = new ArrayList<>();
    private final List<String> readonlyPaths = new ArrayList<>();

    private Spec() {}

    static List<String> defaultUnixCaps() {
        return List.of("CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
                "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE");
    }

    /** containerd's default Unix spec for container {@code id} in {@code namespace}. */
    public static Spec defaults(String namespace, String id) {
        Spec s = new Spec();
        s.rootPath = "rootfs";
        s.noNewPrivileges = true;
        s.capabilities = defaultUnixCaps();
        s.rlimits.add(new Rlimit("RLIMIT_NOFILE", 1024, 1024));
        s.maskedPaths.addAll(List.of("/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"));
        s.readonlyPaths.addAll(List.of("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"));
        s.cgroupsPath = "/" + namespace + "/" + id;
        s.devices.add(new DeviceRule(false, null, null, null, "rwm"));
        for (String t : List.of("pid", "ipc", "uts", "mount", "network")) s.namespaces.add(new Namespace(t, null));
        s.mounts.addAll(List.of(
                new Mount("/proc", "proc", "proc", List.of("nosuid", "noexec", "nodev")),
                new Mount("/dev", "tmpfs", "tmpfs", List.of("nosuid", "strictatime", "mode=755", "size=65536k")),
                new Mount("/dev/pts", "devpts", "devpts", List.of("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5")),
                new Mount("/dev/shm", "tmpfs", "shm", List.of("nosuid", "noexec", "nodev", "mode=1777", "size=65536k")),
                new Mount("/dev/mqueue", "mqueue", "mqueue", List.of("nosuid", "noexec", "nodev")),
                new Mount("/sys", "sysfs", "sysfs", List.of("nosuid", "noexec", "nodev", "ro")),
                new Mount("/run", "tmpfs", "tmpfs", List.of("nosuid", "strictatime", "mode=755", "size=65536k"))));
        return s;
    }

    /** Allows the devices every container gets (null, zero, full, random, urandom, tty, console, pts, ptmx). */
    public Spec withDefaultUnixDevices() {
        long[][] cs = {{1, 3}, {1, 8}, {1, 7}, {5, 0}, {1, 5}, {1, 9}, {5, 1}, {136, -1}, {5, 2}};
        for (long[] c : cs) devices.add(new DeviceRule(true, "c", c[0], c[1] < 0 ? null : c[1], "rwm"));
        return this;
    }

    /** Sets or replaces variables ({@code K=V}); a bare {@code K} removes K. */
    public Spec withEnv(List<String> vars) {
        if (vars != null && !vars.isEmpty()) env = replaceOrAppend(env == null ? List.of() : env, vars);
        return this;
    }

    static List<String> replaceOrAppend(List<String> defaults, List<String> overrides) {
        List<String> out = new ArrayList<>(defaults);
        Map<String, Integer> index = new LinkedHashMap<>();
        for (int i = 0; i < defaults.size(); i++) index.put(key(defaults.get(i)), i);
        for (String v : overrides) {
            Integer at = index.get(key(v));
            if (!v.contains("=")) {
                if (at != null) out.set(at, "");
            } else if (at != null) {
                out.set(at, v);
            } else {
                out.add(v);
            }
        }
        out.removeIf(String::isEmpty);
        return out;
    }

    private static String key(String kv) {
        int eq = kv.indexOf('=');
        return eq < 0 ? kv : kv.substring(0, eq);
    }

    public Spec withMounts(List<Mount> ms) {
        mounts.addAll(ms);
        return this;
    }

    public Spec withProcessArgs(List<String> a) {
        args = List.copyOf(a);
        return this;
    }

    public Spec withCwd(String dir) {
        cwd = dir;
        return this;
    }

    /** A terminal for the process, and TERM=xterm. */
    public Spec withTty() {
        terminal = true;
        List<String> e = new ArrayList<>(env == null ? List.of() : env);
        e.add("TERM=xterm");
        env = e;
        return this;
    }

    /** Shares the host's namespace of this type (removes it from the list). */
    public Spec withHostNamespace(String type) {
        namespaces.removeIf(n -> n.type().equals(type));
        return this;
    }

    /** What ctr --net-host adds: the host's network namespace, /etc/hosts, /etc/resolv.conf and HOSTNAME. */
    public Spec withHostNetwork(String hostName) {
        withHostNamespace("network");
        mounts.add(new Mount("/etc/hosts", "bind", "/etc/hosts", List.of("rbind", "ro")));
        mounts.add(new Mount("/etc/resolv.conf", "bind", "/etc/resolv.conf", List.of("rbind", "ro")));
        return withEnv(List.of("HOSTNAME=" + hostName));
    }

    public Spec withRootfsReadonly() {
        rootReadonly = true;
        return this;
    }

    public Spec withHostname(String name) {
        hostname = name;
        return this;
    }

    public Spec withAnnotations(Map<String, String> a) {
        if (annotations == null) annotations = new TreeMap<>();
        annotations.putAll(a);
        return this;
    }

    /** Variables from a file of lines (ctr --env-file): each line as one --env value, before those. */
    public Spec withEnvFile(java.nio.file.Path file) throws IOException {
        // lines as Go's bufio.Scanner splits them: a trailing \r dropped, no trimming, no comments
        List<String> vars = new ArrayList<>();
        for (String line : java.nio.file.Files.readString(file, StandardCharsets.UTF_8).split("\n", -1)) {
            vars.add(line.endsWith("\r") ? line.substring(0, line.length() - 1) : line);
        }
        if (!vars.isEmpty() && vars.getLast().isEmpty()) vars.removeLast();
        return withEnv(vars);
    }

    /** Replaces the capability sets (bounding, effective, permitted). */
    public Spec withCapabilities(List<String> caps) {
        capabilities = new ArrayList<>(caps);
        return this;
    }

    public Spec withAddedCapabilities(List<String> caps) {
        List<String> c = new ArrayList<>(capabilities == null ? List.of() : capabilities);
        for (String cap : caps) if (!c.contains(cap)) c.add(cap);
        capabilities = c;
        return this;
    }

    public Spec withDroppedCapabilities(List<String> caps) {
        List<String> c = new ArrayList<>(capabilities == null ? List.of() : capabilities);
        c.removeAll(caps);
        capabilities = c;
        return this;
    }

    /**
     * What ctr --privileged sets besides devices: the caller's effective capabilities, no masked or
     * read-only paths, sysfs and cgroupfs mounted read-write, no AppArmor profile, no seccomp.
     */
    public Spec withPrivileged() throws IOException {
        withCapabilities(Capabilities.current());
        maskedPaths.clear();
        readonlyPaths.clear();
        mounts.replaceAll(m -> !m.type().equals("sysfs") && !m.type().equals("cgroup") ? m
                : new Mount(m.destination(), m.type(), m.source(), m.options().stream().map(o -> o.equals("ro") ? "rw" : o).toList()));
        apparmorProfile = null;
        seccomp = null;
        return this;
    }

    /** One cgroup rule allowing read, write and mknod on every device, replacing the others. */
    public Spec withAllDevicesAllowed() {
        devices.clear();
        devices.add(new DeviceRule(true, null, null, null, "rwm"));
        return this;
    }

    /** Every device node under the host's /dev (ctr --privileged). */
    public Spec withHostDevices() throws IOException {
        linuxDevices.addAll(Devices.under(java.nio.file.Path.of("/dev"), ""));
        return this;
    }

    /** The device at {@code path}, or those under a directory, with cgroup rules granting {@code access} (ctr --device). */
    public Spec withDevices(String path, String containerPath, String access) throws IOException {
        for (Device d : Devices.under(java.nio.file.Path.of(path), containerPath)) {
            linuxDevices.add(d);
            devices.add(new DeviceRule(true, d.type(), d.major(), d.minor(), access));
        }
        return this;
    }

    /** A user namespace (added once) and one more range for each of the uid and gid maps. */
    public Spec withUserNamespace(IdMapping uid, IdMapping gid) {
        if (namespaces.stream().noneMatch(n -> n.type().equals("user"))) namespaces.add(new Namespace("user", null));
        uidMappings.add(uid);
        gidMappings.add(gid);
        return this;
    }

    /** Joins the namespace at {@code path} instead of a new one of its type (ctr --with-ns). */
    public Spec withLinuxNamespace(String type, String path) {
        Namespace ns = new Namespace(type, path);
        for (int i = 0; i < namespaces.size(); i++) {
            if (namespaces.get(i).type().equals(type)) {
                namespaces.set(i, ns);
                return this;
            }
        }
        namespaces.add(ns);
        return this;
    }

    /** The cgroups path; empty leaves it to the runtime (no cgroup of the container's own). */
    public Spec withCgroup(String path) {
        cgroupsPath = path;
        return this;
    }

    public Spec withNewPrivileges() {
        noNewPrivileges = false;
        return this;
    }

    public Spec withApparmorProfile(String profile) {
        apparmorProfile = profile;
        return this;
    }

    public Spec withCpuShares(long shares) {
        cpuShares = shares;
        return this;
    }

    public Spec withCpuCfs(long quota, long period) {
        cpuQuota = quota;
        cpuPeriod = period;
        return this;
    }

    public Spec withMemoryLimit(long limit) {
        memoryLimit = limit;
        return this;
    }

    public Spec withRootfsPropagation(String propagation) {
        rootfsPropagation = propagation;
        return this;
    }

    /** The Intel RDT class of service (ctr --rdt-class). */
    public Spec withRdt(String closId) {
        rdtClosId = closId;
        return this;
    }

    /** A seccomp profile as the spec's JSON object ({@link Seccomp}); null: none. */
    public Spec withSeccomp(Map<String, Object> profile) {
        seccomp = profile;
        return this;
    }

    /** The bounding capabilities (what the default seccomp profile opens system calls for). */
    public List<String> boundingCapabilities() {
        return capabilities == null ? List.of() : List.copyOf(capabilities);
    }

    /**
     * Applies an image config ({@code config} member of the image config JSON): Env under the
     * variables already set, Entrypoint + Cmd (or {@code args}), WorkingDir, User with the groups
     * from the root file system's /etc/passwd and /etc/group.
     */
    @SuppressWarnings("unchecked")
    public Spec withImageConfig(Map<String, Object> imageConfig, List<String> args, RootFiles root) throws IOException {
        Map<String, Object> c = imageConfig.get("config") instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
        List<String> defaults = strings(c.get("Env"));
        if (defaults.isEmpty()) defaults = DEFAULT_UNIX_ENV;
        env = replaceOrAppend(defaults, env == null ? List.of() : env);
        List<String> cmd = args != null && !args.isEmpty() ? args : strings(c.get("Cmd"));
        List<String> all = new ArrayList<>(strings(c.get("Entrypoint")));
        all.addAll(cmd);
        this.args = all;
        String wd = c.get("WorkingDir") instanceof String s ? s : "";
        cwd = wd.isEmpty() ? "/" : wd;
        String user = c.get("User") instanceof String s ? s : "";
        if (!user.isEmpty()) {
            withUser(user, root);
            return withAdditionalGids(Long.toString(uid), root);
        }
        return withAdditionalGids("root", root);
    }

    private static List<String> strings(Object o) {
        if (!(o instanceof List<?> l)) return List.of();
        return l.stream().map(String::valueOf).toList();
    }

    /** {@code user}, {@code uid}, {@code user:group}, {@code uid:gid}: names resolved in the root file system. */
    public Spec withUser(String user, RootFiles root) throws IOException {
        additionalGids = null;
        String[] parts = user.split(":", -1);
        if (parts.length == 1) {
            Long id = id(parts[0]);
            Users.Passwd p = id != null ? Users.byUid(root, id) : Users.byName(root, parts[0]);
            if (p == null && id == null) throw ClientException.notFound("no users found for %s", parts[0]);
            uid = p != null ? p.uid() : id;
            gid = p != null ? p.gid() : 0;
        } else if (parts.length == 2) {
            Long u = id(parts[0]);
            Long g = id(parts[1]);
            if (u == null) {
                Users.Passwd p = Users.byName(root, parts[0]);
                if (p == null) throw ClientException.notFound("no users found for %s", parts[0]);
                u = p.uid();
            }
            if (g == null) {
                Long found = Users.groupByName(root, parts[1]);
                if (found == null) throw ClientException.notFound("no groups found for %s", parts[1]);
                g = found;
            }
            uid = u;
            gid = g;
        } else {
            throw ClientException.invalidArgument("invalid USER value %s", user);
        }
        ensureAdditionalGids();
        return this;
    }

    /** The supplementary groups listing {@code user} (a name or a uid), plus the primary gid. */
    public Spec withAdditionalGids(String user, RootFiles root) throws IOException {
        additionalGids = null;
        String name = user;
        Long id = id(user);
        if (id != null) {
            Users.Passwd p = Users.byUid(root, id);
            name = p == null ? null : p.name();
        }
        if (name != null) {
            List<Long> gids = Users.supplementaryGroups(root, name);
            if (gids != null) additionalGids = new ArrayList<>(gids);
        }
        ensureAdditionalGids();
        return this;
    }

    private void ensureAdditionalGids() {
        List<Long> g = additionalGids == null ? new ArrayList<>() : new ArrayList<>(additionalGids);
        if (!g.contains(gid)) g.addFirst(gid);
        additionalGids = g;
    }

    private static Long id(String s) {
        try {
            long v = Long.parseLong(s);
            return v < 0 || v > Integer.MAX_VALUE ? null : v;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    public boolean terminal() {
        return terminal;
    }

    public List<String> args() {
        return args == null ? List.of() : args;
    }

    /** The spec as JSON objects in the runtime-spec's field order, unset members left out. */
    public Map<String, Object> toMap() {
        Map<String, Object> user = obj("uid", uid, "gid", gid, "additionalGids", additionalGids);
        List<String> capList = capabilities == null || capabilities.isEmpty() ? null : capabilities;
        Map<String, Object> caps = capabilities == null ? null : obj("bounding", capList, "effective", capList, "permitted", capList);
        List<Object> rl = new ArrayList<>();
        for (Rlimit r : rlimits) rl.add(obj("type", r.type(), "hard", r.hard(), "soft", r.soft()));
        Map<String, Object> process = obj("terminal", terminal ? true : null, "user", user, "args", args, "env", env, "cwd", cwd,
                "capabilities", caps, "rlimits", rl.isEmpty() ? null : rl, "noNewPrivileges", noNewPrivileges ? true : null,
                "apparmorProfile", nn(apparmorProfile));
        List<Object> ms = new ArrayList<>();
        for (Mount m : mounts) {
            ms.add(obj("destination", m.destination(), "type", nn(m.type()), "source", nn(m.source()),
                    "options", m.options().isEmpty() ? null : m.options()));
        }
        List<Object> devs = new ArrayList<>();
        for (DeviceRule d : devices) devs.add(obj("allow", d.allow(), "type", d.type(), "major", d.major(), "minor", d.minor(), "access", d.access()));
        Map<String, Object> cpu = obj("shares", cpuShares, "quota", cpuQuota, "period", cpuPeriod);
        Map<String, Object> resources = obj("devices", devs.isEmpty() ? null : devs,
                "memory", memoryLimit == null ? null : obj("limit", memoryLimit), "cpu", cpu.isEmpty() ? null : cpu);
        List<Object> nss = new ArrayList<>();
        for (Namespace n : namespaces) nss.add(obj("type", n.type(), "path", nn(n.path())));
        List<Object> nodes = new ArrayList<>();
        for (Device d : linuxDevices) {
            nodes.add(obj("path", d.path(), "type", d.type(), "major", d.major(), "minor", d.minor(), "fileMode", d.fileMode(),
                    "uid", d.uid(), "gid", d.gid()));
        }
        Map<String, Object> linux = obj("uidMappings", idMappings(uidMappings), "gidMappings", idMappings(gidMappings),
                "resources", resources.isEmpty() ? null : resources, "cgroupsPath", nn(cgroupsPath),
                "namespaces", nss.isEmpty() ? null : nss, "devices", nodes.isEmpty() ? null : nodes, "seccomp", seccomp,
                "rootfsPropagation", nn(rootfsPropagation), "maskedPaths", maskedPaths.isEmpty() ? null : maskedPaths,
                "readonlyPaths", readonlyPaths.isEmpty() ? null : readonlyPaths,
                "intelRdt", rdtClosId == null || rdtClosId.isEmpty() ? null : obj("closID", rdtClosId));
        return obj("ociVersion", VERSION, "process", process,
                "root", rootPath == null ? null : obj("path", rootPath, "readonly", rootReadonly ? true : null),
                "hostname", nn(hostname), "mounts", ms.isEmpty() ? null : ms,
                "annotations", annotations == null || annotations.isEmpty() ? null : annotations, "linux", linux);
    }

    private static List<Object> idMappings(List<IdMapping> ms) {
        if (ms.isEmpty()) return null;
        List<Object> out = new ArrayList<>();
        for (IdMapping m : ms) out.add(obj("containerID", m.containerId(), "hostID", m.hostId(), "size", m.size()));
        return out;
    }

    private static String nn(String s) {
        return s == null || s.isEmpty() ? null : s;
    }

    /** An ordered object from key/value pairs, null values left out. */
    private static Map<String, Object> obj(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            if (kv[i + 1] != null) m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }

    public String toJson() {
        return Json.write(toMap());
    }

    /** The spec as containerd stores it in a container record. */
    public Any toAny() {
        return Any.newBuilder().setTypeUrl(TYPE_URL).setValue(ByteString.copyFrom(toJson(), StandardCharsets.UTF_8)).build();
    }
}
