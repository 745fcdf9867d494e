package io.jcontainerd.plugin;

/** An OCI platform as plugins advertise it in introspection (e.g. snapshotters: linux/amd64). */
public record Platform(String os, String architecture, String variant) {

    /** The platform this JVM runs on, in OCI spelling (Java's "aarch64" is "arm64"). */
    public static Platform host() {
        String arch = switch (System.getProperty("os.arch")) {
            case "amd64", "x86_64" -> "amd64";
            case "aarch64" -> "arm64";
            case "x86", "i386", "i686" -> "386";
            case String other -> other;
        };
        return new Platform(System.getProperty("os.name").toLowerCase().startsWith("linux") ? "linux" : System.getProperty("os.name").toLowerCase(),
                arch, "");
    }
}
