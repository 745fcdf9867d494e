package io.jcontainerd.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.jcontainerd.testing.DaemonProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Mounts left in root/tmpmounts by a crashed run are unmounted and removed at the next boot. */
class TempMountCleanupTest {

    static boolean mounted(Path p) throws Exception {
        return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
                .anyMatch(l -> l.split(" ")[4].equals(p.toString()));
    }

    @Test
    void leftoverTempMountsAreCleanedAtBoot() throws Exception {
        try (DaemonProcess d = DaemonProcess.start()) {
            assertThat(d.terminate(Duration.ofSeconds(10))).isZero();
            Path leftover = d.root().resolve("tmpmounts/containerd-mount12345");
            Files.createDirectories(leftover);
            int rc = new ProcessBuilder("mount", "-t", "tmpfs", "tmpfs", leftover.toString()).inheritIO().start().waitFor();
            assertThat(rc).isZero();
            Files.writeString(leftover.resolve("file"), "x");
            assertThat(mounted(leftover)).isTrue();

            d.restart();

            assertThat(mounted(leftover)).isFalse();
            assertThat(leftover).doesNotExist();
            assertThat(d.root().resolve("tmpmounts")).isDirectory();
        }
    }
}
