package io.jcontainerd.shim.proc;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The spawner and the single reaper, exercised in a child JVM ({@link ReaperCheck}). */
@Timeout(120)
class ProcessesTest {
    @Test
    void spawnsReapsAndHandsOrphanExitsToClaims() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                ReaperCheck.class.getName()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        List<String> lines = out.lines().filter(l -> !l.startsWith("WARNING")).toList();
        assertThat(lines).contains("exit 3", "killed 137", "orphan 0", "early true 7", "concurrent true");
        String io = lines.stream().filter(l -> l.startsWith("io ")).findFirst().orElseThrow();
        assertThat(io).contains(" bar|").contains("SigBlk:\t0000000000000000");
        // nothing ignored but glibc's internal real-time signals 32 and 33, which posix_spawn sets so itself
        long ignored = Long.parseLong(io.replaceAll(".*SigIgn:\t([0-9a-f]+).*", "$1"), 16);
        assertThat(ignored & ~0x180000000L).isZero();
        // the shell sees exactly its stdio plus the directory it lists
        assertThat(io).endsWith("|4|");
    }
}
