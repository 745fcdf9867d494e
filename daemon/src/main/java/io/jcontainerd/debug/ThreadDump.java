package io.jcontainerd.debug;

import com.sun.management.HotSpotDiagnosticMXBean;
import java.io.IOException;
import java.lang.management.LockInfo;
import java.lang.management.ManagementFactory;
import java.lang.management.MonitorInfo;
import java.lang.management.ThreadInfo;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;

/**
 * A text dump of every thread's stack: what containerd's goroutine dump is to Go. Uses HotSpot's
 * dumper, which includes virtual threads; falls back to {@link java.lang.management.ThreadMXBean}
 * (platform threads only) when {@code jdk.management} is absent or the dump fails.
 */
public final class ThreadDump {

    private ThreadDump() {}

    public static String text() {
        try {
            return hotspot();
        } catch (IOException | RuntimeException | LinkageError e) {
            return "# HotSpot thread dump unavailable (" + e + "); platform threads only\n" + platformThreads();
        }
    }

    private static String hotspot() throws IOException {
        HotSpotDiagnosticMXBean bean = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
        // dumpThreads only writes to a file that doesn't exist yet: use a fresh private directory
        Path dir = Files.createTempDirectory("jcontainerd-threads");
        Path file = dir.resolve("threads.txt");
        try {
            bean.dumpThreads(file.toString(), HotSpotDiagnosticMXBean.ThreadDumpFormat.TEXT_PLAIN);
            return Files.readString(file, StandardCharsets.UTF_8);
        } finally {
            Files.deleteIfExists(file);
            Files.deleteIfExists(dir);
        }
    }

    /** Full stacks of platform threads, with locks; ThreadInfo.toString would cut stacks at 8 frames. */
    static String platformThreads() {
        StringBuilder sb = new StringBuilder(16 * 1024);
        sb.append(ProcessHandle.current().pid()).append('\n').append(Instant.now()).append('\n')
                .append(Runtime.version()).append("\n\n");
        for (ThreadInfo t : ManagementFactory.getThreadMXBean().dumpAllThreads(true, true)) {
            sb.append('#').append(t.getThreadId()).append(" \"").append(t.getThreadName()).append('"');
            if (t.isDaemon()) {
                sb.append(" daemon");
            }
            sb.append(' ').append(t.getThreadState());
            if (t.getLockName() != null) {
                sb.append(" on ").append(t.getLockName());
                if (t.getLockOwnerName() != null) {
                    sb.append(" owned by \"").append(t.getLockOwnerName()).append("\" #").append(t.getLockOwnerId());
                }
            }
            sb.append('\n');
            StackTraceElement[] stack = t.getStackTrace();
            MonitorInfo[] monitors = t.getLockedMonitors();
            for (int i = 0; i < stack.length; i++) {
                sb.append("      ").append(stack[i]).append('\n');
                for (MonitorInfo m : monitors) {
                    if (m.getLockedStackDepth() == i) {
                        sb.append("      - locked ").append(m).append('\n');
                    }
                }
            }
            LockInfo[] synchronizers = t.getLockedSynchronizers();
            if (synchronizers.length > 0) {
                sb.append("      locked synchronizers:\n");
                for (LockInfo l : synchronizers) {
                    sb.append("      - ").append(l).append('\n');
                }
            }
            sb.append('\n');
        }
        return sb.toString();
    }
}
