package io.jcontainerd.plugin;

import java.util.List;
import java.util.Objects;

/**
 * What a subsystem declares about one of its plugins: its type and id, the plugin types it needs
 * initialized first ({@code "*"} for all others), its default configuration (a record, or null when it
 * has none), and how to build it.
 */
public record Registration(String type, String id, List<String> requires, Object defaultConfig, Init init) {

    public static final String ALL = "*";

    /** Builds the plugin's instance; throw {@link SkipPluginException} to skip it. */
    @FunctionalInterface
    public interface Init {
        Object init(InitContext ic) throws Exception;
    }

    public Registration {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(id, "id");
        requires = List.copyOf(requires);
        Objects.requireNonNull(init, "init");
    }

    public static Registration of(String type, String id, List<String> requires, Init init) {
        return new Registration(type, id, requires, null, init);
    }

    /** The plugin's URI, {@code type.id}; also the key of its {@code [plugins."..."]} config table. */
    public String uri() {
        return type + "." + id;
    }

    public boolean requiresAll() {
        return requires.contains(ALL);
    }
}
