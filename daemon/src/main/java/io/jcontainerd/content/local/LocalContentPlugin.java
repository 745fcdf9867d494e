package io.jcontainerd.content.local;

import io.jcontainerd.plugin.PluginProvider;
import io.jcontainerd.plugin.PluginType;
import io.jcontainerd.plugin.Registration;
import java.util.List;

/** Registers the local content store as {@code io.containerd.content.v1.content}, exporting its root. */
public final class LocalContentPlugin implements PluginProvider {
    @Override
    public List<Registration> registrations() {
        return List.of(Registration.of(PluginType.CONTENT, "content", List.of(), ic -> {
            LocalContentStore store = LocalContentStore.open(ic.root());
            ic.exports().put("root", ic.root().toString());
            return store;
        }));
    }
}
