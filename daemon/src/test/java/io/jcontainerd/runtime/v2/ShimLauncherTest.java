package io.jcontainerd.runtime.v2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jcontainerd.config.ConfigDecoder;
import io.jcontainerd.errdefs.ContainerdException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShimLauncherTest {
    @TempDir
    Path tmp;

    private static byte[] spec(String annotations) {
        return ("{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"sh\"]},\"annotations\":{" + annotations + "},\"linux\":{}}")
                .getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void groupFollowsThePolicyAndHonoursGroupingAnnotations() throws Exception {
        byte[] plain = spec("\"other\":\"x\"");
        byte[] pod = spec("\"io.kubernetes.cri.sandbox-id\":\"sb1\",\"n\":{\"io.containerd.runc.v2.group\":\"nested\"}");
        byte[] both = spec("\"io.kubernetes.cri.sandbox-id\":\"sb1\",\"io.containerd.runc.v2.group\":\"g\"");
        assertThat(ShimLauncher.group("container", "c1", both)).isEqualTo("c1");
        assertThat(ShimLauncher.group("pod", "c1", plain)).isEqualTo("c1");
        assertThat(ShimLauncher.group("pod", "c1", pod)).isEqualTo("sb1");
        assertThat(ShimLauncher.group("pod", "c1", both)).isEqualTo("g");
        assertThat(ShimLauncher.group("namespace", "c1", plain)).isEmpty();
        assertThat(ShimLauncher.group("", "c1", plain)).isEmpty(); // the default policy
        assertThat(ShimLauncher.group("namespace", "c1", pod)).isEqualTo("sb1");
        assertThat(ShimLauncher.group("pod", "c1", "{}".getBytes(StandardCharsets.UTF_8))).isEqualTo("c1");
        assertThatThrownBy(() -> ShimLauncher.group("host", "c1", plain)).isInstanceOf(ContainerdException.class);
    }

    @Test
    void socketOfAGroupIsStableAndDistinct() {
        Path ns = ShimLauncher.socketPath("/run/jcd.sock", "default", "");
        assertThat(ns).isEqualTo(ShimLauncher.socketPath("/run/jcd.sock/", "default", ""));
        assertThat(ns.getParent()).isEqualTo(Path.of(ShimLauncher.SOCKET_DIR));
        assertThat(ns).isNotEqualTo(ShimLauncher.socketPath("/run/jcd.sock", "default", "c1"))
                .isNotEqualTo(ShimLauncher.socketPath("/run/jcd.sock", "other", ""))
                .isNotEqualTo(ShimLauncher.socketPath("/run/other.sock", "default", ""));
    }

    @Test
    void builtinShimIsRecognisedThroughLinks() throws Exception {
        Path home = Files.createDirectories(tmp.resolve("home/bin"));
        Path shim = Files.writeString(home.resolve("jcontainerd-shim-runc-v2"), "#!/bin/sh\n");
        Path link = Files.createSymbolicLink(tmp.resolve("link"), shim);
        ShimLauncher l = new ShimLauncher(Optional.of(shim));
        assertThat(l.isBuiltin(link)).isTrue();
        assertThat(l.isBuiltin(Path.of("/usr/bin/containerd-shim-runc-v2"))).isFalse();
        assertThat(new ShimLauncher(Optional.empty()).isBuiltin(shim)).isFalse();
    }

    @Test
    void runtimeSettingsDecodeWithDefaultsForTheRuncRuntime() {
        RuntimeConfig cfg = ConfigDecoder.decode(Map.of("runtimes", Map.of(
                RuntimeConfig.RUNC_V2, Map.of("shim_idle_timeout", "2m"),
                "io.containerd.other.v1", Map.of("shim_binary", "/x", "shim_group", "pod"))), RuntimeConfig.defaults());
        RuntimeConfig.Runtime runc = cfg.runtimes().get(RuntimeConfig.RUNC_V2);
        assertThat(runc.shimGroup()).isEqualTo(RuntimeConfig.DEFAULT_GROUP);
        assertThat(runc.shimIdleTimeout()).isEqualTo(Duration.ofMinutes(2));
        assertThat(runc.shimBinary()).isEqualTo(RuntimeConfig.defaultRuncShim());
        RuntimeConfig.Runtime other = cfg.runtimes().get("io.containerd.other.v1");
        assertThat(other).isEqualTo(new RuntimeConfig.Runtime("/x", "pod", Duration.ZERO));
    }

    @Test
    void defaultRuncShimIsTheJavaShimOnlyWhenInstalledBesideTheDaemon() throws Exception {
        String before = System.getProperty(RuntimeConfig.HOME_PROPERTY);
        try {
            System.setProperty(RuntimeConfig.HOME_PROPERTY, tmp.toString());
            assertThat(RuntimeConfig.defaultRuncShim()).isEqualTo("containerd-shim-runc-v2");
            Path shim = Files.createDirectories(tmp.resolve("bin")).resolve("jcontainerd-shim-runc-v2");
            Files.writeString(shim, "#!/bin/sh\n");
            shim.toFile().setExecutable(true);
            assertThat(RuntimeConfig.defaultRuncShim()).isEqualTo(shim.toString());
        } finally {
            if (before == null) System.clearProperty(RuntimeConfig.HOME_PROPERTY);
            else System.setProperty(RuntimeConfig.HOME_PROPERTY, before);
        }
    }
}
