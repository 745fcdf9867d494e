package io.jcontainerd.namespaces;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jcontainerd.content.Digest;
import io.jcontainerd.errdefs.ContainerdException;
import java.util.List;
import java.util.Random;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The hand-written identifier and digest checks accept exactly what containerd's regular expressions accept. */
class IdentifierTest {
    private static final Pattern REFERENCE = Pattern.compile(Namespaces.IDENTIFIER_RE);

    @Test
    void identifierAgreesWithTheRegexOnChosenCases() {
        for (String s : List.of("a", "A9", "default", "k8s.io", "a.b_c-d", "a..b", ".a", "a.", "-", "a-", "_a", "a_-b",
                "a b", "ü", "a/b", "", "x.y.z", "ab--cd", "1.2.3")) {
            assertThat(Namespaces.isIdentifier(s)).as(s).isEqualTo(REFERENCE.matcher(s).matches());
        }
    }

    @Test
    void identifierAgreesWithTheRegexOnRandomStrings() {
        Random random = new Random(42);
        String alphabet = "aZ09._-/ :";
        for (int i = 0; i < 20_000; i++) {
            StringBuilder sb = new StringBuilder();
            int n = random.nextInt(7);
            for (int k = 0; k < n; k++) sb.append(alphabet.charAt(random.nextInt(alphabet.length())));
            String s = sb.toString();
            assertThat(Namespaces.isIdentifier(s)).as("\"%s\"", s).isEqualTo(REFERENCE.matcher(s).matches());
        }
    }

    @Test
    void validateIdentifierNamesTheGrammar() {
        assertThatThrownBy(() -> Namespaces.validateIdentifier("bad..name"))
                .isInstanceOf(ContainerdException.class)
                .hasMessageContaining("must match ^[A-Za-z0-9]+(?:[._-](?:[A-Za-z0-9]+))*$");
    }

    @Test
    void digestHexIsSixtyFourLowercaseHexDigits() {
        String hex = "0123456789abcdef".repeat(4);
        assertThat(Digest.parse("sha256:" + hex).hex()).isEqualTo(hex);
        for (String bad : List.of(hex.toUpperCase(), hex.substring(1), hex + "0", hex.substring(1) + "g", hex.substring(1) + ":")) {
            assertThatThrownBy(() -> Digest.parse("sha256:" + bad)).isInstanceOf(ContainerdException.class)
                    .hasMessageContaining("invalid sha256 digest hex");
        }
    }
}
