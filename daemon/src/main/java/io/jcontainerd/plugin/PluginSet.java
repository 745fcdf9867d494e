package io.jcontainerd.plugin;

import io.jcontainerd.errdefs.Errdefs;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Plugins in initialization order, looked up by type and id. Thread-confined during boot. */
public final class PluginSet {
    private final List<Plugin> ordered = new ArrayList<>();
    private final Map<String, Map<String, Plugin>> byType = new LinkedHashMap<>();

    void add(Plugin p) {
        Map<String, Plugin> ofType = byType.computeIfAbsent(p.type(), t -> new LinkedHashMap<>());
        if (ofType.containsKey(p.id())) {
            throw Errdefs.alreadyExists("plugin %s already initialized", p.registration().uri());
        }
        ofType.put(p.id(), p);
        ordered.add(p);
    }

    public List<Plugin> all() {
        return Collections.unmodifiableList(ordered);
    }

    /** The instance of plugin type/id; NotFound if absent, FailedPrecondition if it did not initialize. */
    public <T> T get(String type, String id, Class<T> as) {
        Plugin p = byType.getOrDefault(type, Map.of()).get(id);
        if (p == null) throw Errdefs.notFound("plugin %s.%s not found", type, id);
        if (!p.ok()) {
            throw Errdefs.failedPrecondition("plugin %s.%s is not available: %s", type, id,
                    p.error() == null ? p.status() : p.error().getMessage());
        }
        return as.cast(p.instance());
    }

    /** Successfully initialized instances of a type, by id, in init order. */
    public <T> Map<String, T> instancesOf(String type, Class<T> as) {
        Map<String, T> out = new LinkedHashMap<>();
        byType.getOrDefault(type, Map.of()).forEach((id, p) -> {
            if (p.ok() && as.isInstance(p.instance())) out.put(id, as.cast(p.instance()));
        });
        return out;
    }

    /** The single initialized instance of a type (e.g. the metadata store). */
    public <T> T single(String type, Class<T> as) {
        Map<String, T> found = instancesOf(type, as);
        if (found.isEmpty()) throw Errdefs.notFound("no plugin of type %s is available", type);
        return found.values().iterator().next();
    }
}
