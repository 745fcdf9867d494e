package io.jcontainerd.shim.task;

import io.jcontainerd.api.events.TaskOOM;
import io.jcontainerd.shim.sys.Posix;
import io.jcontainerd.shim.util.Log;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Publishes TaskOOM when the kernel's OOM killer strikes in a container's memory cgroup, as containerd's
 * shim does: on cgroup v1 through an eventfd registered for {@code memory.oom_control} (a blocking read
 * per container on a small platform thread), on cgroup v2 by watching the {@code oom_kill} count of
 * {@code memory.events} once a second (a sleeping virtual thread).
 */
final class OomWatcher {
    private OomWatcher() {}

    /** Starts watching the cgroup of {@code pid} (the container's init, just started). */
    static void watch(Container c, int pid) {
        try {
            if (Stats.unified()) {
                String rel = cgroupOf(pid, "");
                if (rel != null) watchV2(c, Path.of("/sys/fs/cgroup", rel));
            } else {
                String rel = cgroupOf(pid, "memory");
                if (rel != null) watchV1(c, Path.of("/sys/fs/cgroup/memory", rel));
            }
        } catch (IOException | RuntimeException e) {
            Log.warn("add cg to OOM monitor", e);
        }
    }

    /** The cgroup path of {@code pid} for a v1 controller, or the v2 path for "". */
    static String cgroupOf(int pid, String controller) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/cgroup"))) {
            String[] f = line.split(":", 3);
            if (f.length < 3) continue;
            if (controller.isEmpty() ? f[0].equals("0") && f[1].isEmpty() : java.util.List.of(f[1].split(",")).contains(controller)) {
                return f[2].startsWith("/") ? f[2].substring(1) : f[2];
            }
        }
        return null;
    }

    private static void watchV1(Container c, Path dir) throws IOException {
        if (!Files.isDirectory(dir)) return;
        int efd = Posix.eventfd();
        int ofd = -1;
        try {
            ofd = Posix.open(dir.resolve("memory.oom_control").toString(), Posix.O_RDONLY, 0);
            Files.writeString(dir.resolve("cgroup.event_control"), efd + " " + ofd, StandardCharsets.US_ASCII, StandardOpenOption.WRITE);
        } catch (IOException e) {
            Posix.close(efd);
            Posix.close(ofd);
            throw e;
        }
        int control = ofd;
        Thread.ofPlatform().name("oom-" + c.id).daemon().stackSize(128 * 1024).start(() -> {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment buf = arena.allocate(8);
                MemorySegment state = Posix.newErrnoState(arena);
                // the eventfd also fires when the cgroup goes away: that ends the watch
                while (Posix.read(efd, buf, 8, state) == 8 && Files.isDirectory(dir) && !c.deleted()) {
                    c.service.publish(c.namespace, "/tasks/oom", TaskOOM.newBuilder().setContainerId(c.id).build());
                }
            } finally {
                Posix.close(efd);
                Posix.close(control);
            }
        });
    }

    private static void watchV2(Container c, Path dir) {
        Path events = dir.resolve("memory.events");
        if (!Files.exists(events)) return;
        Thread.ofVirtual().name("oom-" + c.id).start(() -> {
            long last = oomKills(events);
            while (!c.deleted()) {
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException e) {
                    return;
                }
                long now = oomKills(events);
                if (now < 0) return; // the cgroup is gone
                if (now > last) c.service.publish(c.namespace, "/tasks/oom", TaskOOM.newBuilder().setContainerId(c.id).build());
                last = now;
            }
        });
    }

    private static long oomKills(Path events) {
        try {
            for (String line : Files.readAllLines(events)) {
                if (line.startsWith("oom_kill ")) return Long.parseLong(line.substring(9).strip());
            }
            return 0;
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
    }
}
