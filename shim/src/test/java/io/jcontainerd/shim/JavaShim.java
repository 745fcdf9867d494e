package io.jcontainerd.shim;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/** An executable that runs our shim from this test JVM's class path, standing in for bin/jcontainerd-shim-runc-v2. */
final class JavaShim {
    private static Path launcher;

    private JavaShim() {}

    static synchronized Path launcher() throws IOException {
        if (launcher != null) return launcher;
        Path dir = Files.createTempDirectory("jcshim-bin");
        Path script = dir.resolve("jcontainerd-shim-runc-v2");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Files.writeString(script, "#!/bin/sh\nexec " + java + " --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -XX:+UseSerialGC"
                + " -XX:TieredStopAtLevel=1 -Xss256k -cp '" + System.getProperty("java.class.path") + "' "
                + Main.class.getName() + " \"$@\"\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                Files.deleteIfExists(script);
                Files.deleteIfExists(dir);
            } catch (IOException ignored) {
                // temp leftovers
            }
        }));
        launcher = script;
        return script;
    }
}
