package io.jcontainerd.runtime.v2;

import io.jcontainerd.metadata.MetadataDb;
import io.jcontainerd.plugin.InitContext;
import io.jcontainerd.plugin.PluginProvider;
import io.jcontainerd.plugin.PluginType;
import io.jcontainerd.plugin.Registration;
import io.jcontainerd.runtime.Timeouts;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/** Registers {@code io.containerd.runtime.v2.task}, the runtime v2 {@link TaskManager}. */
public final class TaskManagerPlugin implements PluginProvider {

    /** The launcher shims get as {@code -publish-binary}, written under the plugin's root at every boot. */
    static final String PUBLISH_BINARY = ".jcontainerd-publish";

    @Override
    public List<Registration> registrations() {
        return List.of(new Registration(PluginType.RUNTIME_V2, "task", List.of(PluginType.EVENT, PluginType.METADATA),
                RuntimeConfig.defaults(), TaskManagerPlugin::init));
    }

    private static TaskManager init(InitContext ic) throws IOException {
        RuntimeConfig cfg = ic.config(RuntimeConfig.class);
        Pattern platform = Pattern.compile("[a-z0-9_]+(/[a-z0-9_]+(/[a-z0-9_.]+)?)?");
        for (String p : cfg.platforms()) {
            if (!platform.matcher(p).matches()) throw new IllegalArgumentException("invalid platform \"" + p + "\"");
        }
        cfg.runtimes().forEach((name, rt) -> {
            if (rt.shimGroup() != null && !rt.shimGroup().isEmpty() && !ShimLauncher.POLICIES.contains(rt.shimGroup())) {
                throw new IllegalArgumentException("runtime " + name + ": invalid shim_group \"" + rt.shimGroup()
                        + "\" (one of " + String.join(", ", ShimLauncher.POLICIES) + ")");
            }
        });
        MetadataDb db = ic.plugins().single(PluginType.METADATA, MetadataDb.class);
        Files.createDirectories(ic.root());
        String level = ic.serverConfig().debug().level();
        TaskManager m = new TaskManager(ic.root(), ic.state(), ic.address(), ic.ttrpcAddress(),
                writePublishBinary(ic.root()).toString(), "debug".equals(level) || "trace".equals(level), cfg,
                Timeouts.from(ic.serverConfig().timeouts()), ic.events(),
                (ns, id) -> db.view(tx -> db.containers(tx, ns).get(id)).getRuntime().getName(),
                ic.clock(), System.err);
        m.loadExisting();
        ic.exports().put("platforms", String.join(",", cfg.platforms()));
        return m;
    }

    /**
     * A launcher for {@code jcontainerd ... publish}: this JVM and class path, so it works however the
     * daemon itself was started (bin/jcontainerd, tests, an IDE).
     */
    static Path writePublishBinary(Path dir) throws IOException {
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String cp = Pattern.compile(Pattern.quote(File.pathSeparator)).splitAsStream(System.getProperty("java.class.path"))
                .filter(e -> !e.isEmpty())
                .map(e -> Path.of(e).toAbsolutePath().toString())
                .collect(Collectors.joining(File.pathSeparator));
        String script = "#!/bin/sh\n"
                + "exec " + quote(javaBin) + " --enable-native-access=ALL-UNNAMED -XX:+UseSerialGC -XX:TieredStopAtLevel=1"
                + " -Xshare:auto -XX:-UsePerfData -cp " + quote(cp) + " io.jcontainerd.cmd.Main \"$@\"\n";
        Path target = dir.resolve(PUBLISH_BINARY);
        Path tmp = dir.resolve(PUBLISH_BINARY + ".tmp");
        Files.writeString(tmp, script);
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.move(tmp, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        return target;
    }

    private static String quote(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }
}
