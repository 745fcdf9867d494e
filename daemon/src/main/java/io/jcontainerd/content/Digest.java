package io.jcontainerd.content;

import io.jcontainerd.errdefs.Errdefs;
import java.util.HexFormat;

/** A content digest, {@code algorithm:hex}. Only sha256 is accepted (as containerd's default). */
public record Digest(String algorithm, String hex) {
    public static final String SHA256 = "sha256";

    public Digest {
        if (!SHA256.equals(algorithm)) {
            throw Errdefs.invalidArgument("unsupported digest algorithm \"%s\": only sha256 is supported", algorithm);
        }
        if (!isSha256Hex(hex)) throw Errdefs.invalidArgument("invalid sha256 digest hex \"%s\"", hex);
    }

    /** 64 lowercase hex digits; a loop, not a regex (every content call parses a digest, often interpreted). */
    private static boolean isSha256Hex(String hex) {
        if (hex.length() != 64) return false;
        for (int i = 0; i < 64; i++) {
            char c = hex.charAt(i);
            if ((c < '0' || c > '9') && (c < 'a' || c > 'f')) return false;
        }
        return true;
    }

    /** Parses {@code sha256:<64 lowercase hex>}; anything else is InvalidArgument. */
    public static Digest parse(String s) {
        if (s == null || s.isEmpty()) throw Errdefs.invalidArgument("digest must not be empty");
        int colon = s.indexOf(':');
        if (colon <= 0) throw Errdefs.invalidArgument("invalid digest \"%s\": expected algorithm:hex", s);
        return new Digest(s.substring(0, colon), s.substring(colon + 1));
    }

    public static Digest sha256(byte[] sum) {
        return new Digest(SHA256, HexFormat.of().formatHex(sum));
    }

    @Override
    public String toString() {
        return algorithm + ":" + hex;
    }
}
