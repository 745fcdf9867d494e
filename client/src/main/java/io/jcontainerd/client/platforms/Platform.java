package io.jcontainerd.client.platforms;

import java.util.LinkedHashMap;
import java.util.Map;

/** An OCI platform: os, architecture, optional variant (and os.version, kept for Windows images). */
public record Platform(String os, String architecture, String variant, String osVersion) {
    public Platform {
        os = os == null ? "" : os;
        architecture = architecture == null ? "" : architecture;
        variant = variant == null ? "" : variant;
        osVersion = osVersion == null ? "" : osVersion;
    }

    public Platform(String os, String architecture, String variant) {
        this(os, architecture, variant, "");
    }

    public Platform(String os, String architecture) {
        this(os, architecture, "", "");
    }

    /** The platform from an index entry's or config's JSON members (os, architecture, variant). */
    public static Platform fromJson(Map<String, Object> m) {
        return new Platform((String) m.get("os"), (String) m.get("architecture"), (String) m.get("variant"),
                (String) m.get("os.version"));
    }

    public Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("architecture", architecture);
        m.put("os", os);
        if (!osVersion.isEmpty()) m.put("os.version", osVersion);
        if (!variant.isEmpty()) m.put("variant", variant);
        return m;
    }

    /** {@code os/arch[/variant]}, "unknown" without an os, as containerd formats it. */
    @Override
    public String toString() {
        return Platforms.format(this);
    }
}
