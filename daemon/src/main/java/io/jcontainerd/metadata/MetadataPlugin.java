package io.jcontainerd.metadata;

import io.jcontainerd.content.ContentStore;
import io.jcontainerd.plugin.PluginProvider;
import io.jcontainerd.plugin.PluginType;
import io.jcontainerd.plugin.Registration;
import io.jcontainerd.snapshots.Snapshotter;
import java.util.List;

/**
 * Registers the metadata store, {@code io.containerd.metadata.v1.sqlite} (containerd's is "bolt").
 * It comes after content and snapshotters because it wraps them.
 */
public final class MetadataPlugin implements PluginProvider {

    /** {@code content_sharing_policy}: "shared" (a namespace may adopt a blob another already has) or "isolated". */
    public record MetadataConfig(String contentSharingPolicy) {}

    @Override
    public List<Registration> registrations() {
        return List.of(new Registration(PluginType.METADATA, "sqlite",
                List.of(PluginType.CONTENT, PluginType.SNAPSHOT),
                new MetadataConfig("shared"),
                ic -> {
                    MetadataConfig cfg = ic.config(MetadataConfig.class);
                    if (!cfg.contentSharingPolicy().equals("shared") && !cfg.contentSharingPolicy().equals("isolated")) {
                        throw new IllegalArgumentException("content_sharing_policy must be \"shared\" or \"isolated\", got \""
                                + cfg.contentSharingPolicy() + "\"");
                    }
                    MetadataDb db = MetadataDb.open(ic.root(), ic.clock());
                    // wrap the backend content store (if one initialized) the way containerd's metadata.NewDB does
                    ic.plugins().instancesOf(PluginType.CONTENT, ContentStore.class).values().stream().findFirst()
                            .ifPresent(cs -> db.setContent(new MetadataContent(db, cs, cfg.contentSharingPolicy().equals("shared"))));
                    ic.plugins().instancesOf(PluginType.SNAPSHOT, Snapshotter.class).forEach(db::addSnapshotter);
                    ic.exports().put("path", db.file().toString());
                    return db;
                }));
    }
}
