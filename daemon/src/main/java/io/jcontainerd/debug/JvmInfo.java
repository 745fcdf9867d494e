package io.jcontainerd.debug;

import java.lang.management.BufferPoolMXBean;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryUsage;
import java.lang.management.RuntimeMXBean;
import java.lang.management.ThreadMXBean;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/** JVM state as text for the debug listener: the memory report and the {@code /debug/vars} JSON. */
public final class JvmInfo {

    private JvmInfo() {}

    /** Heap and non-heap usage, each memory pool, buffer pools and garbage collectors. */
    public static String heap() {
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        StringBuilder sb = new StringBuilder(4096);
        sb.append("heap:     ").append(usage(memory.getHeapMemoryUsage())).append('\n');
        sb.append("non-heap: ").append(usage(memory.getNonHeapMemoryUsage())).append("\n\n");

        sb.append("memory pools:\n");
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            sb.append("  ").append(pool.getName()).append(" (").append(pool.getType()).append(")\n");
            sb.append("    usage: ").append(usage(pool.getUsage())).append('\n');
            sb.append("    peak:  ").append(usage(pool.getPeakUsage())).append('\n');
        }

        sb.append("\nbuffer pools:\n");
        for (BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
            sb.append("  ").append(pool.getName()).append(": count=").append(pool.getCount())
                    .append(" used=").append(pool.getMemoryUsed())
                    .append(" capacity=").append(pool.getTotalCapacity()).append('\n');
        }

        sb.append("\ngarbage collectors:\n");
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            sb.append("  ").append(gc.getName()).append(": count=").append(gc.getCollectionCount())
                    .append(" time_ms=").append(gc.getCollectionTime())
                    .append(" pools=").append(String.join(",", gc.getMemoryPoolNames())).append('\n');
        }
        return sb.toString();
    }

    private static String usage(MemoryUsage u) {
        return u == null ? "n/a"
                : "init=" + u.getInit() + " used=" + u.getUsed() + " committed=" + u.getCommitted() + " max=" + u.getMax();
    }

    /** Process facts as a JSON object, in the spirit of Go's expvar. */
    public static String vars() {
        RuntimeMXBean runtime = ManagementFactory.getRuntimeMXBean();
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        ProcessHandle.Info info = ProcessHandle.current().info();
        List<String> cmdline = info.command()
                .map(cmd -> Stream.concat(Stream.of(cmd), Arrays.stream(info.arguments().orElse(new String[0]))).toList())
                .orElse(List.of());
        StringBuilder sb = new StringBuilder(1024).append("{\n");
        field(sb, "pid", Long.toString(ProcessHandle.current().pid()));
        field(sb, "start_time", quote(Instant.ofEpochMilli(runtime.getStartTime()).toString()));
        field(sb, "uptime_seconds", Double.toString(runtime.getUptime() / 1000.0));
        field(sb, "cmdline", "[" + String.join(", ", cmdline.stream().map(JvmInfo::quote).toList()) + "]");
        field(sb, "java_version", quote(Runtime.version().toString()));
        field(sb, "vm", quote(runtime.getVmName() + " " + runtime.getVmVersion()));
        field(sb, "available_processors", Integer.toString(Runtime.getRuntime().availableProcessors()));
        field(sb, "threads", Integer.toString(threads.getThreadCount()));
        field(sb, "daemon_threads", Integer.toString(threads.getDaemonThreadCount()));
        field(sb, "peak_threads", Integer.toString(threads.getPeakThreadCount()));
        field(sb, "started_threads_total", Long.toString(threads.getTotalStartedThreadCount()));
        field(sb, "heap_used_bytes", Long.toString(memory.getHeapMemoryUsage().getUsed()));
        field(sb, "heap_committed_bytes", Long.toString(memory.getHeapMemoryUsage().getCommitted()));
        field(sb, "non_heap_used_bytes", Long.toString(memory.getNonHeapMemoryUsage().getUsed()));
        field(sb, "open_fds", openFds().map(String::valueOf).orElse("null"));
        sb.setLength(sb.length() - 2); // the last field's ",\n"
        return sb.append("\n}\n").toString();
    }

    private static Optional<Long> openFds() {
        try {
            if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.UnixOperatingSystemMXBean os) {
                return Optional.of(os.getOpenFileDescriptorCount());
            }
        } catch (LinkageError e) {
            // jdk.management not in this runtime
        }
        return Optional.empty();
    }

    private static void field(StringBuilder sb, String name, String json) {
        sb.append("  ").append(quote(name)).append(": ").append(json).append(",\n");
    }

    static String quote(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"').toString();
    }
}
