package io.jcontainerd.mount;

import java.io.IOException;
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

    /** Null when {@code m} mounts on {@code target} (which must exist), else the failure's text. */
    public static String tryMount(Mount m, Path target) {
        List<String> cmd = List.of("unshare", "--mount", "--propagation", "private",
                "mount", "-i", "-n", "-t", m.type(), "-o", String.join(",", m.options()), m.source(), target.toString());
        Process p;
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
            pb.environment().put("LC_ALL", "C"); // messages in one language
            p = pb.start();
        } catch (IOException noTools) {
            return inProcess(m, target);
        }
        try (var out = p.getInputStream()) {
            String text = new String(out.readAllBytes(), StandardCharsets.UTF_8).strip();
            int status = p.waitFor();
            if (status == 0) return null;
            return text.isEmpty() ? "mount exited with status " + status : text;
        } catch (IOException e) {
            return e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
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
