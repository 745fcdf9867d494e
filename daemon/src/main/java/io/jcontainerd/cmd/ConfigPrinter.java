package io.jcontainerd.cmd;

import io.jcontainerd.config.Config;
import io.jcontainerd.config.ConfigDecoder;
import io.jcontainerd.config.TomlWriter;
import io.jcontainerd.plugin.PluginLoader;
import io.jcontainerd.plugin.Registration;
import java.util.LinkedHashMap;
import java.util.Map;

/** Renders configurations as TOML, with every plugin's section. */
final class ConfigPrinter {
    private ConfigPrinter() {}

    static String defaults() {
        Map<String, Object> plugins = new LinkedHashMap<>();
        for (Registration r : PluginLoader.discover()) {
            if (r.defaultConfig() != null) plugins.put(r.uri(), r.defaultConfig());
        }
        return TomlWriter.write(Config.defaults(), plugins);
    }

    /** The config as the daemon will use it: known plugin tables decoded onto their defaults. */
    static String effective(Config config) {
        Map<String, Object> plugins = new LinkedHashMap<>(config.plugins());
        for (Registration r : PluginLoader.discover()) {
            if (r.defaultConfig() == null) continue;
            plugins.put(r.uri(), ConfigDecoder.decodePlugin(config, r.uri(), r.defaultConfig(), w -> { }));
        }
        return TomlWriter.write(config, plugins);
    }
}
