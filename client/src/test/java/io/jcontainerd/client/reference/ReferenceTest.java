package io.jcontainerd.client.reference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ReferenceTest {
    static final String D = "sha256:" + "a".repeat(64);

    @Test
    void normalizesLikeDocker() {
        assertThat(Reference.parse("busybox").toString()).isEqualTo("docker.io/library/busybox:latest");
        assertThat(Reference.parse("busybox:1.36").toString()).isEqualTo("docker.io/library/busybox:1.36");
        assertThat(Reference.parse("user/repo").toString()).isEqualTo("docker.io/user/repo:latest");
        assertThat(Reference.parse("index.docker.io/library/alpine").toString()).isEqualTo("docker.io/library/alpine:latest");
        assertThat(Reference.parse("localhost/x").toString()).isEqualTo("localhost/x:latest");
        Reference r = Reference.parse("127.0.0.1:5000/a/b/c:v1");
        assertThat(r.domain()).isEqualTo("127.0.0.1:5000");
        assertThat(r.path()).isEqualTo("a/b/c");
        assertThat(r.tag()).isEqualTo("v1");
        assertThat(r.object()).isEqualTo("v1");
        assertThat(Reference.parse("ghcr.io/org/x").path()).isEqualTo("org/x");
        // "host" without a dot or port is a path component on docker.io
        assertThat(Reference.parse("myhost/x").toString()).isEqualTo("docker.io/myhost/x:latest");
    }

    @Test
    void digests() {
        Reference r = Reference.parse("busybox@" + D);
        assertThat(r.tag()).isNull();
        assertThat(r.digest()).isEqualTo(D);
        assertThat(r.toString()).isEqualTo("docker.io/library/busybox@" + D);
        Reference both = Reference.parse("busybox:1@" + D);
        assertThat(both.toString()).isEqualTo("docker.io/library/busybox:1@" + D);
        assertThat(both.object()).isEqualTo(D);
        assertThat(both.familiar()).isEqualTo("busybox:1@" + D);
        assertThat(Reference.parse("docker.io/user/x:2").familiar()).isEqualTo("user/x:2");
        assertThat(both.withDigest(D).toString()).isEqualTo("docker.io/library/busybox@" + D);
    }

    @Test
    void rejectsInvalid() {
        assertThatThrownBy(() -> Reference.parse("")).isInstanceOf(InvalidReferenceException.class);
        assertThatThrownBy(() -> Reference.parse("Busybox")).hasMessageContaining("must be lowercase");
        assertThatThrownBy(() -> Reference.parse("busy box")).hasMessageContaining("invalid reference format");
        assertThatThrownBy(() -> Reference.parse("busybox:bad tag")).hasMessageContaining("invalid reference format");
        assertThatThrownBy(() -> Reference.parse("busybox@sha256:abc")).hasMessageContaining("invalid reference format");
        assertThatThrownBy(() -> Reference.parse("busybox@sha256:" + "A".repeat(64))).hasMessageContaining("invalid digest");
        assertThatThrownBy(() -> Reference.parse("a".repeat(64))).hasMessageContaining("64-byte hexadecimal");
        assertThatThrownBy(() -> Reference.parse("x/" + "a".repeat(300))).hasMessageContaining("255");
        assertThatThrownBy(() -> Reference.parse("host:port/x")).isInstanceOf(InvalidReferenceException.class);
        assertThatThrownBy(() -> Reference.parse("a//b")).isInstanceOf(InvalidReferenceException.class);
        assertThat(((InvalidReferenceException) catchIt(() -> Reference.parse("UP"))).isInvalidArgument()).isTrue();
    }

    private static Throwable catchIt(Runnable r) {
        try {
            r.run();
        } catch (Throwable t) {
            return t;
        }
        return null;
    }
}
