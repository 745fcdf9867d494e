package io.jcontainerd.runtime.restart;

import io.jcontainerd.events.Exchange;
import io.jcontainerd.metadata.MetadataDb;
import io.jcontainerd.plugin.PluginProvider;
import io.jcontainerd.plugin.PluginType;
import io.jcontainerd.plugin.Registration;
import io.jcontainerd.runtime.v2.TaskManager;
import java.util.List;

/**
 * Registers {@code io.containerd.internal.v1.restart}, the {@link RestartMonitor}. It needs the event
 * exchange (task exits), the metadata store (containers, snapshots) and the runtime v2 task manager.
 */
public final class RestartMonitorPlugin implements PluginProvider {

    @Override
    public List<Registration> registrations() {
        return List.of(new Registration(PluginType.INTERNAL, "restart",
                List.of(PluginType.EVENT, PluginType.METADATA, PluginType.RUNTIME_V2), RestartConfig.defaults(), ic -> {
                    RestartConfig cfg = ic.config(RestartConfig.class);
                    if (cfg.interval() != null && cfg.interval().isNegative()) {
                        throw new IllegalArgumentException("interval must not be negative: " + cfg.interval());
                    }
                    RestartMonitor m = new RestartMonitor(ic.plugins().single(PluginType.METADATA, MetadataDb.class),
                            ic.plugins().get(PluginType.RUNTIME_V2, "task", TaskManager.class),
                            ic.plugins().single(PluginType.EVENT, Exchange.class), ic.events(), cfg.effectiveInterval());
                    m.start();
                    return m;
                }));
    }
}
