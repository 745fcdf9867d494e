package io.jcontainerd.gc;

import static org.assertj.core.api.Assertions.assertThat;

import io.jcontainerd.metadata.MetadataDb;
import io.jcontainerd.metrics.Metrics;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GcMetricsTest {
    @TempDir
    Path dir;

    @Test
    void totalsAreScraped() throws Exception {
        try (MetadataDb db = MetadataDb.open(dir, Clock.systemUTC())) {
            GarbageCollector gc = new GarbageCollector(db, Clock.systemUTC());
            gc.register(new LeaseGcResource());
            db.update(tx -> {
                db.namespaces(tx).ensure("default");
                return Sql.update(tx, "INSERT INTO leases (namespace, id, created_at) VALUES ('default', 'old', 0)");
            });
            db.update(tx -> Sql.update(tx,
                    "INSERT INTO lease_labels VALUES ('default', 'old', 'containerd.io/gc.expire', '2000-01-01T00:00:00Z')"));
            gc.collect();
            Metrics metrics = new Metrics(false);
            GcMetrics.register(metrics.registry(), gc);
            String text = new String(metrics.scrape(), StandardCharsets.UTF_8);
            assertThat(text).contains("jcontainerd_gc_collections_total 1.0", "jcontainerd_gc_removed_total{type=\"lease\"} 1.0",
                    "jcontainerd_gc_failures_total 0.0", "jcontainerd_gc_pause_seconds_total", "jcontainerd_gc_last_pause_seconds");
        }
    }
}
