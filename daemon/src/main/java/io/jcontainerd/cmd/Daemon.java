package io.jcontainerd.cmd;

import io.jcontainerd.config.Config;
import io.jcontainerd.config.ConfigLoader;
import io.jcontainerd.debug.DebugRoutes;
import io.jcontainerd.debug.HttpEndpoint;
import io.jcontainerd.debug.ThreadDump;
import io.jcontainerd.metrics.Metrics;
import io.jcontainerd.gc.GcMetrics;
import io.jcontainerd.gc.scheduler.Gc;
import io.jcontainerd.log.Logs;
import io.jcontainerd.plugin.PluginType;
import io.jcontainerd.mount.TempMounts;
import io.jcontainerd.plugin.PluginLoader;
import io.jcontainerd.runtime.restart.RestartMetrics;
import io.jcontainerd.runtime.restart.RestartMonitor;
import io.jcontainerd.server.Server;
import io.jcontainerd.server.Signals;
import io.jcontainerd.version.Version;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.concurrent.CountDownLatch;

/** The boot sequence of containerd's main action, step for step, and the wait for a stop signal. */
final class Daemon implements Signals.Handler {
    private static final Logger LOG = System.getLogger(Daemon.class.getName());

    private final Main flags;
    private final CountDownLatch stop = new CountDownLatch(1);
    private volatile Config config;

    Daemon(Main flags) {
        this.flags = flags;
    }

    int run() throws Exception {
        long start = System.nanoTime();
        // 1. signals first, so that none is missed while booting
        Signals.install(this);
        BootWarmup.start();
        // 2. config file (a missing one means the embedded defaults), then flags
        ConfigLoader.Loaded loaded = flags.loadConfig();
        config = loaded.config();
        Logs.configure(config.debug().level());
        for (String w : loaded.warnings()) LOG.log(Level.WARNING, w);
        // 3. temporary mounts from a previous run
        Path tmpmounts = TempMounts.setLocation(Path.of(config.root(), "tmpmounts"));
        for (String w : TempMounts.cleanup(tmpmounts)) LOG.log(Level.WARNING, "cleanup temp mount: " + w);
        if (config.grpc().address().isEmpty()) throw new IllegalArgumentException("grpc address cannot be empty");
        LOG.log(Level.INFO, "starting jcontainerd version={0} revision={1}", Version.VERSION, Version.REVISION);
        // 4. plugins and services; 5. listeners
        // metrics classes load only when a metrics address is configured
        Metrics metrics = config.metrics().address().isEmpty() ? null : new Metrics(config.metrics().grpcHistogram());
        Server server = Server.create(config, PluginLoader.discover(), Clock.systemUTC(), p -> {
            if (metrics != null) metrics.recordPluginInit(p.type(), p.id(), p.status().name().toLowerCase(), p.initNanos());
        });
        try {
            if (!config.debug().address().isEmpty()) {
                Config shown = config;
                server.addListener(HttpEndpoint.listen(config.debug().address(), config.debug().uid(), config.debug().gid(),
                        DebugRoutes.routes(() -> ConfigPrinter.effective(shown))));
            }
            if (metrics != null) {
                server.addInterceptor(metrics.grpc());
                server.serviceDefinitions().forEach(metrics.grpc()::initialize);
                server.plugins().instancesOf(PluginType.GC, Gc.class).values()
                        .forEach(gc -> GcMetrics.register(metrics.registry(), gc.collector()));
                server.plugins().instancesOf(PluginType.INTERNAL, RestartMonitor.class).values()
                        .forEach(m -> RestartMetrics.register(metrics.registry(), m));
                server.addListener(metrics.listen(config.metrics().address()));
            }
            server.serveGrpc();
            server.serveTtrpc();
            LOG.log(Level.INFO, String.format("jcontainerd successfully booted in %.6fs", (System.nanoTime() - start) / 1e9));
            stop.await();
        } finally {
            server.close();
        }
        LOG.log(Level.INFO, "jcontainerd stopped");
        return 0;
    }

    @Override
    public void shutdown(String signal) {
        LOG.log(Level.INFO, "received {0}, stopping", signal);
        stop.countDown();
    }

    @Override
    public void dumpStacks() {
        String dump = ThreadDump.text();
        LOG.log(Level.INFO, "=== BEGIN thread stack dump ===\n" + dump + "\n=== END thread stack dump ===");
        Config c = config;
        if (c == null) return;
        Path file = Path.of(c.state(), "jcontainerd." + Instant.now().toString().replace(':', '-') + ".stacks.log");
        try {
            Files.writeString(file, dump);
            LOG.log(Level.INFO, "stack dump written to {0}", file);
        } catch (IOException e) {
            LOG.log(Level.WARNING, "writing stack dump: " + e.getMessage());
        }
    }
}
