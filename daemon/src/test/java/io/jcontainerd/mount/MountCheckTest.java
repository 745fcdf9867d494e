package io.jcontainerd.mount;

import static org.assertj.core.api.Assertions.assertThat;

import io.jcontainerd.snapshots.Dirs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class MountCheckTest {
    Path dir;

    @BeforeEach
    void setUp() throws IOException {
        dir = Files.createTempDirectory(Path.of("/var/tmp"), "mountcheck-test");
        for (String d : List.of("lower1", "lower2", "upper", "work", "merged")) Files.createDirectory(dir.resolve(d));
    }

    @AfterEach
    void tearDown() throws IOException {
        Dirs.deleteRecursively(dir);
    }

    private Mount overlay(String lowerdirs) {
        return Mount.of("overlay", "overlay",
                List.of("lowerdir=" + lowerdirs + ",upperdir=" + dir.resolve("upper") + ",workdir=" + dir.resolve("work")));
    }

    @Test
    void aMountThatWorksIsMadeAndLeavesNothingMounted() throws IOException {
        Path merged = dir.resolve("merged");
        assertThat(MountCheck.tryMount(overlay(dir.resolve("lower2") + ":" + dir.resolve("lower1")), merged)).isNull();
        assertThat(MountInfo.isMountPoint(merged)).isFalse();
        assertThat(MountInfo.mountPointsUnder(dir)).isEmpty();
    }

    @Test
    void aMountTheKernelRefusesSaysWhy() throws IOException {
        Path merged = dir.resolve("merged");
        String failure = MountCheck.tryMount(overlay(dir.resolve("missing") + ":" + dir.resolve("lower1")), merged);
        assertThat(failure).isNotBlank().contains("mount");
        assertThat(MountInfo.isMountPoint(merged)).isFalse();
    }
}
