package io.jcontainerd.client.oci;

import io.jcontainerd.client.ClientException;
import io.jcontainerd.client.Json;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Seccomp profiles as ctr 1.6 puts them in a spec ({@code linux.seccomp}): the default profile of
 * {@code --seccomp}, or a profile file ({@code --seccomp-profile}) read into the runtime-spec's fields.
 */
public final class Seccomp {
    private Seccomp() {}

    private static final String ALLOW = "SCMP_ACT_ALLOW";
    private static final String ERRNO = "SCMP_ACT_ERRNO";
    private static final long ENOSYS = 38;
    /** CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP. */
    private static final long CLONE_NAMESPACE_FLAGS = 0x00020000L | 0x04000000L | 0x08000000L | 0x10000000L | 0x20000000L
            | 0x40000000L | 0x02000000L;

    /**
     * The default profile for a process with these bounding capabilities, on this machine's
     * architecture and kernel: deny with EPERM, allow the common system calls, personality with the
     * usual personas, ptrace from kernel 4.8, the architecture's own calls, those each capability
     * makes safe, and without CAP_SYS_ADMIN clone without namespace flags and clone3 failing ENOSYS.
     */
    public static Map<String, Object> defaultProfile(List<String> boundingCaps) throws IOException {
        String arch = System.getProperty("os.arch");
        List<Object> syscalls = new ArrayList<>();
        syscalls.add(rule(allowedNames(), ALLOW, null, null));
        for (long persona : new long[] {0x0, 0x0008, 0x20000, 0x20008, 0xffffffffL}) {
            syscalls.add(rule(List.of("personality"), ALLOW, null, List.of(arg(0, persona, "SCMP_CMP_EQ"))));
        }
        if (kernelAtLeast(System.getProperty("os.version"), 4, 8)) syscalls.add(rule(List.of("ptrace"), ALLOW, null, null));
        List<String> archCalls = switch (arch) {
            case "amd64", "x86_64" -> List.of("arch_prctl", "modify_ldt");
            case "aarch64", "arm64" -> List.of("arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint",
                    "cacheflush", "set_tls");
            default -> List.of();
        };
        if (!archCalls.isEmpty()) syscalls.add(rule(archCalls, ALLOW, null, null));
        boolean admin = false;
        for (String cap : boundingCaps) {
            List<String> names = switch (cap) {
                case "CAP_DAC_READ_SEARCH" -> List.of("open_by_handle_at");
                case "CAP_SYS_ADMIN" -> List.of("bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick",
                        "lookup_dcookie", "mount", "mount_setattr", "move_mount", "name_to_handle_at", "open_tree", "perf_event_open",
                        "quotactl", "quotactl_fd", "setdomainname", "sethostname", "setns", "syslog", "umount", "umount2", "unshare");
                case "CAP_SYS_BOOT" -> List.of("reboot");
                case "CAP_SYS_CHROOT" -> List.of("chroot");
                case "CAP_SYS_MODULE" -> List.of("delete_module", "init_module", "finit_module");
                case "CAP_SYS_PACCT" -> List.of("acct");
                case "CAP_SYS_PTRACE" -> List.of("kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev", "ptrace");
                case "CAP_SYS_RAWIO" -> List.of("iopl", "ioperm");
                case "CAP_SYS_TIME" -> List.of("settimeofday", "stime", "clock_settime", "clock_settime64");
                case "CAP_SYS_TTY_CONFIG" -> List.of("vhangup");
                case "CAP_SYS_NICE" -> List.of("get_mempolicy", "mbind", "set_mempolicy");
                case "CAP_SYSLOG" -> List.of("syslog");
                case "CAP_BPF" -> List.of("bpf");
                case "CAP_PERFMON" -> List.of("perf_event_open");
                default -> List.of();
            };
            admin |= cap.equals("CAP_SYS_ADMIN");
            if (!names.isEmpty()) syscalls.add(rule(names, ALLOW, null, null));
        }
        if (!admin) {
            syscalls.add(rule(List.of("clone"), ALLOW, null, List.of(arg(0, CLONE_NAMESPACE_FLAGS, "SCMP_CMP_MASKED_EQ"))));
            syscalls.add(rule(List.of("clone3"), ERRNO, ENOSYS, null));
        }
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("defaultAction", ERRNO);
        List<String> arches = switch (arch) {
            case "amd64", "x86_64" -> List.of("SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32");
            case "aarch64", "arm64" -> List.of("SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64");
            default -> List.of();
        };
        if (!arches.isEmpty()) p.put("architectures", arches);
        p.put("syscalls", syscalls);
        return p;
    }

    private static List<String> allowedNames() throws IOException {
        try (InputStream in = Seccomp.class.getResourceAsStream("seccomp-allowed.txt")) {
            if (in == null) throw new IOException("seccomp-allowed.txt missing from the classpath");
            return new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)).lines()
                    .filter(l -> !l.isBlank() && !l.startsWith("#")).toList();
        }
    }

    private static Map<String, Object> rule(List<String> names, String action, Long errnoRet, List<Object> args) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("names", names);
        r.put("action", action);
        if (errnoRet != null) r.put("errnoRet", errnoRet);
        if (args != null && !args.isEmpty()) r.put("args", args);
        return r;
    }

    private static Map<String, Object> arg(long index, long value, String op) {
        Map<String, Object> a = new LinkedHashMap<>();
        a.put("index", index);
        a.put("value", value);
        a.put("op", op);
        return a;
    }

    /** Whether a kernel release ({@code 6.1.0-13-amd64}) is at least major.minor; false if unreadable. */
    static boolean kernelAtLeast(String release, int major, int minor) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("^(\\d+)\\.(\\d+)").matcher(release == null ? "" : release);
        if (!m.find()) return false;
        long k = Long.parseLong(m.group(1));
        long mj = Long.parseLong(m.group(2));
        return k > major || k == major && mj >= minor;
    }

    /**
     * A profile file as ctr reads it: decoded into the runtime-spec's seccomp fields (names matched
     * case-insensitively, unknown ones dropped) and written back in the spec's field order.
     */
    public static Map<String, Object> fromFile(Path file) throws IOException {
        Object parsed;
        try {
            parsed = Json.parse(Files.readAllBytes(file));
        } catch (IOException e) {
            throw ClientException.invalidArgument("cannot load seccomp profile %s: %s", file, e.getMessage());
        } catch (IllegalArgumentException e) {
            throw ClientException.invalidArgument("decoding seccomp profile failed %s: %s", file, e.getMessage());
        }
        if (!(parsed instanceof Map<?, ?> m)) throw ClientException.invalidArgument("decoding seccomp profile failed %s: not an object", file);
        Map<String, Object> in = fields(m);
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("defaultAction", string(in.get("defaultaction")));
        putIfNumber(p, "defaultErrnoRet", in.get("defaulterrnoret"));
        putIfNonEmpty(p, "architectures", in.get("architectures"));
        putIfNonEmpty(p, "flags", in.get("flags"));
        putIfNonEmpty(p, "listenerPath", in.get("listenerpath"));
        putIfNonEmpty(p, "listenerMetadata", in.get("listenermetadata"));
        List<Object> syscalls = new ArrayList<>();
        if (in.get("syscalls") instanceof List<?> l) {
            for (Object o : l) {
                Map<String, Object> s = o instanceof Map<?, ?> sm ? fields(sm) : Map.of();
                Map<String, Object> r = new LinkedHashMap<>();
                r.put("names", s.get("names") instanceof List<?> n ? n : null);
                r.put("action", string(s.get("action")));
                putIfNumber(r, "errnoRet", s.get("errnoret"));
                List<Object> args = new ArrayList<>();
                if (s.get("args") instanceof List<?> al) {
                    for (Object ao : al) {
                        Map<String, Object> a = ao instanceof Map<?, ?> am ? fields(am) : Map.of();
                        Map<String, Object> out = new LinkedHashMap<>();
                        out.put("index", number(a.get("index")));
                        out.put("value", number(a.get("value")));
                        if (number(a.get("valuetwo")) instanceof Number v2 && v2.longValue() != 0) out.put("valueTwo", v2);
                        out.put("op", string(a.get("op")));
                        args.add(out);
                    }
                }
                if (!args.isEmpty()) r.put("args", args);
                syscalls.add(r);
            }
        }
        if (!syscalls.isEmpty()) p.put("syscalls", syscalls);
        return p;
    }

    /** Members by lower-cased name, the last of equal names winning (Go's decoding into a struct). */
    private static Map<String, Object> fields(Map<?, ?> m) {
        Map<String, Object> out = new LinkedHashMap<>();
        m.forEach((k, v) -> out.put(String.valueOf(k).toLowerCase(Locale.ROOT), v));
        return out;
    }

    private static String string(Object o) {
        return o instanceof String s ? s : "";
    }

    private static Object number(Object o) {
        return o instanceof Number n ? n : 0L;
    }

    private static void putIfNumber(Map<String, Object> p, String key, Object v) {
        if (v instanceof Number) p.put(key, v);
    }

    private static void putIfNonEmpty(Map<String, Object> p, String key, Object v) {
        if (v instanceof List<?> l && !l.isEmpty() || v instanceof String s && !s.isEmpty()) p.put(key, v);
    }
}
