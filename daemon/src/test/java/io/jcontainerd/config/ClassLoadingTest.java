package io.jcontainerd.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading a config must not pull in jackson-databind's ObjectMapper (start-up time). */
class ClassLoadingTest {
    @TempDir
    Path dir;

    /** Run in a fresh JVM by the test below. */
    public static void main(String[] args) {
        ConfigLoader.Loaded l = ConfigLoader.load(Path.of(args[0]));
        System.out.println("loaded root=" + l.config().root() + " warnings=" + l.warnings().size());
        System.out.print(TomlWriter.write(l.config()).length() > 0 ? "" : "empty");
    }

    @Test
    void objectMapperIsNeverLoaded() throws Exception {
        Path cfg = dir.resolve("c.toml");
        Files.writeString(cfg, "version = 2\nroot = \"/x\"\nbad = 1\n[grpc]\nuid = 1\n[plugins.\"io.containerd.a.v1.b\"]\nk = [1.5]\n");
        String java = ProcessHandle.current().info().command().orElse("java");
        Process p = new ProcessBuilder(java, "-Xlog:class+load=info", "-cp", System.getProperty("java.class.path"),
                ClassLoadingTest.class.getName(), cfg.toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(out).isZero();
        assertThat(out).contains("loaded root=/x warnings=1");
        List<String> databind = out.lines().filter(l -> l.contains("com.fasterxml.jackson.databind.")).toList();
        assertThat(databind).noneMatch(l -> l.contains("ObjectMapper") || l.contains("ObjectReader")
                || l.contains("DeserializationContext") || l.contains("databind.deser."));
    }
}
