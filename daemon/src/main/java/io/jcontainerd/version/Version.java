package io.jcontainerd.version;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** The build's version and source revision, stamped into the jar at build time. */
public final class Version {
    private Version() {}

    public static final String VERSION;
    public static final String REVISION;

    static {
        Properties p = new Properties();
        try (InputStream in = Version.class.getResourceAsStream("/io/jcontainerd/version.properties")) {
            if (in != null) p.load(in);
        } catch (IOException ignored) {
            // an unstamped build still runs; it reports "unknown"
        }
        VERSION = nonBlank(p.getProperty("version"), "unknown");
        REVISION = nonBlank(p.getProperty("revision"), "unknown");
    }

    private static String nonBlank(String v, String fallback) {
        return v == null || v.isBlank() || v.startsWith("${") ? fallback : v.trim();
    }
}
