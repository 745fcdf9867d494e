package io.jcontainerd.gc.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import io.jcontainerd.config.Config;
import io.jcontainerd.gc.GcLabels;
import io.jcontainerd.leases.LeaseManager;
import io.jcontainerd.leases.Resource;
import io.jcontainerd.metadata.MetadataDb;
import io.jcontainerd.metadata.MetadataPlugin;
import io.jcontainerd.plugin.PluginLoader;
import io.jcontainerd.plugin.PluginSet;
import io.jcontainerd.plugin.PluginType;
import io.jcontainerd.plugin.Registration;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The plugin as the daemon loads it: real executor timer, lease deletion with sync waiting for a collection. */
class SchedulerPluginTest {
    @TempDir
    Path dir;

    @Test
    void loadsAfterMetadataAndServesSyncLeaseDeletion() throws Exception {
        List<Registration> regs = new ArrayList<>();
        regs.addAll(new SchedulerPlugin().registrations());
        regs.addAll(new MetadataPlugin().registrations());
        regs.addAll(new LeaseManager.Provider().registrations());
        Config cfg = Config.defaults().withRoot(dir.resolve("root").toString()).withState(dir.resolve("state").toString());
        cfg = new Config(cfg.version(), cfg.root(), cfg.state(), cfg.temp(), cfg.grpc(), cfg.ttrpc(), cfg.debug(),
                cfg.metrics(), List.of(), List.of("io.containerd.gc.v1.scheduler"), cfg.timeouts(),
                Map.of("io.containerd.gc.v1.scheduler", Map.of("startup_delay", "0s", "mutation_threshold", 7L)));
        PluginSet plugins = PluginLoader.load(regs, cfg, (ns, topic, ev) -> {}, Clock.systemUTC(), p -> {});
        try {
            Gc gc = plugins.get(PluginType.GC, "scheduler", Gc.class);
            MetadataDb db = plugins.single(PluginType.METADATA, MetadataDb.class);
            assertThat(db.gcTrigger()).isSameAs(gc.trigger());
            var plugin = plugins.all().stream().filter(p -> p.type().equals(PluginType.GC)).findFirst().orElseThrow();
            assertThat(plugin.exports()).containsEntry("MutationThreshold", "7").containsEntry("PauseThreshold", "0.02");

            LeaseManager leases = plugins.single(PluginType.LEASE, LeaseManager.class);
            leases.create("default", "pull", Map.of());
            String digest = "sha256:" + "a".repeat(64);
            db.update(tx -> {
                try (PreparedStatement ps = tx.prepareStatement(
                        "INSERT INTO content (namespace, digest, size, created_at, updated_at) VALUES ('default', ?, 1, 0, 0)")) {
                    ps.setString(1, digest);
                    return ps.executeUpdate();
                }
            });
            leases.addResource("default", "pull", new Resource(digest, "content"));
            gc.trigger().collect(true);
            assertThat(count(db, digest)).isEqualTo(1); // held by the lease

            leases.delete("default", "pull", true); // returns after a collection
            assertThat(count(db, digest)).isZero();
            assertThat(gc.collector().totals().collections()).isGreaterThanOrEqualTo(2);
            assertThat(GcLabels.ROOT).isEqualTo("containerd.io/gc.root");
        } finally {
            PluginLoader.closeAll(plugins);
        }
    }

    private static int count(MetadataDb db, String digest) {
        return db.view(tx -> {
            try (PreparedStatement ps = tx.prepareStatement("SELECT COUNT(*) FROM content WHERE digest = ?")) {
                ps.setString(1, digest);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getInt(1);
                }
            }
        });
    }
}
