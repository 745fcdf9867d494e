package io.jcontainerd.mount;

import static org.assertj.core.api.Assertions.assertThat;

import io.jcontainerd.snapshots.Dirs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
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
    void aMountThatWorksIsMadeAndLeavesNothingMounted() throws Exception {
        Path merged = dir.resolve("merged");
        CountDownLatch cleanedUp = new CountDownLatch(1);
        assertThat(MountCheck.tryMount(overlay(dir.resolve("lower2") + ":" + dir.resolve("lower1")), merged, cleanedUp::countDown)).isNull();
        assertThat(MountInfo.isMountPoint(merged)).isFalse();
        assertThat(MountInfo.mountPointsUnder(dir)).isEmpty();
        // the cleanup comes once the probe's namespace is gone, possibly after the answer
        assertThat(cleanedUp.await(30, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void aMountTheKernelRefusesSaysWhy() throws IOException {
        Path merged = dir.resolve("merged");
        AtomicInteger cleanups = new AtomicInteger();
        String failure = MountCheck.tryMount(overlay(dir.resolve("missing") + ":" + dir.resolve("lower1")), merged, cleanups::incrementAndGet);
        assertThat(failure).isNotBlank().contains("mount").doesNotContain(" mounted on ");
        assertThat(MountInfo.isMountPoint(merged)).isFalse();
        assertThat(cleanups).hasValue(1); // a failed probe has ended before it answers
    }
}
