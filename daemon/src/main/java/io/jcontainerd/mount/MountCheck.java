package io.jcontainerd.mount;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/**
 * Tries whether the kernel accepts a mount, without keeping it: for start-up probes such as "does overlayfs
 * with two lower dirs work on this root". The mount is real, made by util-linux's mount(8) inside a mount
 * namespace of its own ({@code unshare --mount}, private propagation), which disappears with the process, so
 * there is nothing to unmount and nothing is left behind even if the daemon dies half-way.
 *
 * <p>Why a process rather than mount(2) through {@link io.jcontainerd.sys.Libc}: at boot the probe was the
 * daemon's only reason to link FFM downcalls (a class spun per call shape, the JDK's class-file API and
 * some 300 JDK classes, all held by the AOT cache and loaded at every start). One fork/exec costs less
 * (bench/README.md). Where the tools are missing, the check falls back to mount(2) and umount2(2).
 */
public final class MountCheck {
    private MountCheck() {}

    /**
     * Null when {@code m} mounts on {@code target} (which must exist), else the failure's text.
     * {@code cleanup} runs once the probe no longer uses its directories, possibly after this returns: the
     * answer comes as soon as mount(8) reports the mount ({@code -v}), while the throwaway namespace is
     * still being torn down. That teardown unmounts, which waits for an RCU grace period in the kernel:
     * 20-150 ms of wall time (next to no CPU) on a busy VM, measured, and no part of the answer.
     */
    public static String tryMount(Mount m, Path target, Runnable cleanup) {
        List<String> cmd = List.of("unshare", "--mount", "--propagation", "private",
                "mount", "-v", "-i", "-n", "-t", m.type(), "-o", String.join(",", m.options()), m.source(), target.toString());
        Process p;
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
            pb.environment().put("LC_ALL", "C"); // messages in one language
            p = pb.start();
        } catch (IOException noTools) {
            try {
                return inProcess(m, target);
            } finally {
                cleanup.run();
            }
        }
        StringBuilder text = new StringBuilder();
        try (var out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = out.readLine()) != null; ) {
                if (line.contains(" mounted on ")) {
                    p.onExit().thenRun(cleanup);
                    return null;
                }
                text.append(line).append('\n');
            }
            int status = p.waitFor();
            cleanup.run();
            if (status == 0) return null;
            String said = text.toString().strip();
            return said.isEmpty() ? "mount exited with status " + status : said;
        } catch (IOException e) {
            p.onExit().thenRun(cleanup);
            return e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            p.onExit().thenRun(cleanup);
            return "interrupted";
        }
    }

    private static String inProcess(Mount m, Path target) {
        try {
            Mounts.mount(m, target);
            Mounts.unmountAll(target, 0);
            return null;
        } catch (IOException | RuntimeException e) {
            return e.getMessage();
        }
    }
}
