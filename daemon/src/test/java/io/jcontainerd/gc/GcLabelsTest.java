package io.jcontainerd.gc;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GcLabelsTest {

    private static List<Node> refs(Map<String, String> labels) {
        List<Node> out = new ArrayList<>();
        GcLabels.references("ns", labels, (n, flat) -> out.add(n));
        return out;
    }

    @Test
    void contentReferences() {
        Map<String, String> l = new LinkedHashMap<>();
        l.put("containerd.io/gc.ref.content", "sha256:aa");
        l.put("containerd.io/gc.ref.content.config", "sha256:bb");
        l.put("containerd.io/gc.ref.content.l.0", "sha256:cc");
        l.put("containerd.io/gc.ref.content/m", "sha256:dd");
        l.put("containerd.io/gc.ref.contentx", "sha256:no");
        l.put("containerd.io/gc.ref.contents.x", "sha256:no");
        l.put("containerd.io/gc.root", "x");
        l.put("other", "sha256:no");
        assertThat(refs(l)).containsExactly(Node.content("ns", "sha256:aa"), Node.content("ns", "sha256:bb"),
                Node.content("ns", "sha256:cc"), Node.content("ns", "sha256:dd"));
    }

    @Test
    void snapshotReferences() {
        Map<String, String> l = new LinkedHashMap<>();
        l.put("containerd.io/gc.ref.snapshot.overlayfs", "sha256:chain");
        l.put("containerd.io/gc.ref.snapshot.native/1", "k1");
        l.put("containerd.io/gc.ref.snapshot.native/a/b", "k2");
        l.put("containerd.io/gc.ref.snapshot", "no");
        assertThat(refs(l)).containsExactly(Node.snapshot("ns", "overlayfs", "sha256:chain"),
                Node.snapshot("ns", "native", "k1"), Node.snapshot("ns", "native", "k2"));
        assertThat(Node.snapshot("ns", "native", "a/b").snapshotter()).isEqualTo("native");
        assertThat(Node.snapshot("ns", "native", "a/b").snapshotKey()).isEqualTo("a/b");
    }

    @Test
    void rootAndFlatArePresenceOnly() {
        assertThat(GcLabels.isRoot(Map.of("containerd.io/gc.root", ""))).isTrue();
        assertThat(GcLabels.isRoot(Map.of("containerd.io/gc.roots", "x"))).isFalse();
        assertThat(GcLabels.isFlat(Map.of("containerd.io/gc.flat", "false"))).isTrue();
    }

    @Test
    void expiryIsRfc3339AndStrictlyBefore() {
        Instant now = Instant.parse("2024-05-01T12:00:00Z");
        assertThat(GcLabels.isExpired(Map.of(GcLabels.EXPIRE, "2024-05-01T11:59:59Z"), now)).isTrue();
        assertThat(GcLabels.isExpired(Map.of(GcLabels.EXPIRE, "2024-05-01T12:00:00Z"), now)).isFalse();
        assertThat(GcLabels.isExpired(Map.of(GcLabels.EXPIRE, "2024-05-01T13:59:59.5+02:00"), now)).isTrue();
        assertThat(GcLabels.isExpired(Map.of(GcLabels.EXPIRE, "2024-05-01T12:00:01Z"), now)).isFalse();
        assertThat(GcLabels.isExpired(Map.of(), now)).isFalse();
        // not RFC 3339: ignored, the lease stays
        assertThat(GcLabels.isExpired(Map.of(GcLabels.EXPIRE, "yesterday"), now)).isFalse();
        assertThat(GcLabels.isExpired(Map.of(GcLabels.EXPIRE, "2024-05-01T11:00Z"), now)).isFalse();
        assertThat(GcLabels.isExpired(Map.of(GcLabels.EXPIRE, "2024-05-01 11:00:00Z"), now)).isFalse();
        assertThat(GcLabels.isExpired(Map.of(GcLabels.EXPIRE, "2024-02-30T11:00:00Z"), now)).isFalse();
        assertThat(GcLabels.expiry("2024-05-01T11:00:00.123456789-01:30"))
                .isEqualTo(Instant.parse("2024-05-01T12:30:00.123456789Z"));
    }
}
