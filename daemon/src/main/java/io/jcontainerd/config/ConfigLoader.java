package io.jcontainerd.config;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads the daemon's TOML config file over {@link Config#defaults()}.
 *
 * <p>Versions follow containerd 1.x: {@code version = 2} is the current format; a file without
 * {@code version} (or {@code version = 1}) is the deprecated version 1 format, whose plugin tables are
 * keyed by short plugin ids ({@code [plugins.cri]}) and are renamed to full plugin URIs here; anything
 * above 2 is refused. Unknown keys are warnings, never errors; bad syntax and values of the wrong type
 * are {@link ConfigException}s naming the file, line and key.
 */
public final class ConfigLoader {
    private ConfigLoader() {}

    /** The loaded configuration and the warnings to log about it (each naming its file, line and key). */
    public record Loaded(Config config, List<String> warnings) {
        public Loaded {
            warnings = List.copyOf(warnings);
        }
    }

    static final int CURRENT_VERSION = 2;

    /** containerd config keys jcontainerd accepts but does not act on (warned about when set). */
    private static final List<String> IGNORED_TOP = List.of(
            "plugin_dir", "oom_score", "cgroup", "proxy_plugins", "stream_processors", "imports");
    private static final List<String> IGNORED_GRPC = List.of("tcp_tls_ca", "tcp_tls_cert", "tcp_tls_key");

    /** Short plugin ids of version 1 configs, as containerd maps them to plugin URIs. */
    private static final Map<String, String> V1_PLUGIN_IDS = Map.ofEntries(
            Map.entry("cri", "io.containerd.grpc.v1.cri"),
            Map.entry("cgroups", "io.containerd.monitor.v1.cgroups"),
            Map.entry("linux", "io.containerd.runtime.v1.linux"),
            Map.entry("scheduler", "io.containerd.gc.v1.scheduler"),
            Map.entry("bolt", "io.containerd.metadata.v1.bolt"),
            Map.entry("task", "io.containerd.runtime.v2.task"),
            Map.entry("opt", "io.containerd.internal.v1.opt"),
            Map.entry("restart", "io.containerd.internal.v1.restart"),
            Map.entry("tracing", "io.containerd.internal.v1.tracing"),
            Map.entry("otlp", "io.containerd.tracing.processor.v1.otlp"),
            Map.entry("aufs", "io.containerd.snapshotter.v1.aufs"),
            Map.entry("btrfs", "io.containerd.snapshotter.v1.btrfs"),
            Map.entry("devmapper", "io.containerd.snapshotter.v1.devmapper"),
            Map.entry("native", "io.containerd.snapshotter.v1.native"),
            Map.entry("overlayfs", "io.containerd.snapshotter.v1.overlayfs"),
            Map.entry("zfs", "io.containerd.snapshotter.v1.zfs"));

    /** Loads {@code file}; a file that does not exist means the defaults, without warnings. */
    public static Loaded load(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            return new Loaded(Config.defaults(), List.of());
        } catch (CharacterCodingException e) {
            throw new ConfigException(file.toString(), 0, 0, List.of(), "not valid UTF-8", e);
        } catch (IOException e) {
            String why = e instanceof FileSystemException fse
                    ? (fse.getReason() != null ? fse.getReason() : fse.getClass().getSimpleName()) : e.getMessage();
            throw new ConfigException(file.toString(), 0, 0, List.of(), "cannot read: " + why, e);
        }
        return parse(text, file.toString());
    }

    /** Parses config text; {@code source} names it in errors and warnings (usually the file path). */
    public static Loaded parse(String text, String source) {
        return new Parse(text, source).run();
    }

    private record Warning(int line, String text) {}

    private static final class Parse {
        final String text;
        final String source;
        final List<Warning> warnings = new ArrayList<>();
        KeyLocator locator;

        Parse(String text, String source) {
            this.text = text;
            this.source = source;
        }

        Loaded run() {
            try {
                Config config = decode();
                // in file order, whichever table they were found in
                warnings.sort(Comparator.comparingInt(Warning::line));
                return new Loaded(config, warnings.stream().map(Warning::text).toList());
            } catch (ConfigException e) {
                throw place(e);
            }
        }

        private Config decode() {
            Map<String, Object> top = new LinkedHashMap<>(TomlReader.parse(text));
            int version = version(top.get("version"));
            top.put("version", (long) CURRENT_VERSION); // plugin tables are migrated below

            for (String k : IGNORED_TOP) ignore(top, List.of(), k);
            if (top.get("grpc") instanceof Map<?, ?> g) {
                Map<String, Object> grpc = copy(g);
                for (String k : IGNORED_GRPC) ignore(grpc, List.of("grpc"), k);
                top.put("grpc", grpc);
            }
            if (version < CURRENT_VERSION) migrateV1(top);
            else validatePluginUris(top);

            Config config = toConfig(top);
            config.timeouts().forEach((k, v) -> {
                try {
                    GoDuration.parse(v);
                } catch (IllegalArgumentException e) {
                    throw new ConfigException(List.of("timeouts", k), e.getMessage());
                }
            });
            return config;
        }

        /**
         * The tree as a Config over the defaults. Written out rather than left to ConfigDecoder: its
         * reflection spins method handles, tens of milliseconds on a cold JVM, and this runs at every start.
         */
        private Config toConfig(Map<String, Object> top) {
            Config d = Config.defaults();
            Table t = new Table(top, List.of());
            Table g = t.table("grpc"), tt = t.table("ttrpc"), dbg = t.table("debug"), m = t.table("metrics");
            Config c = new Config(
                    t.int32("version", d.version()),
                    t.string("root", d.root()),
                    t.string("state", d.state()),
                    t.string("temp", d.temp()),
                    new Config.GrpcConfig(
                            g.string("address", d.grpc().address()),
                            g.string("tcp_address", d.grpc().tcpAddress()),
                            g.int32("uid", d.grpc().uid()),
                            g.int32("gid", d.grpc().gid()),
                            g.int32("max_recv_message_size", d.grpc().maxRecvMessageSize()),
                            g.int32("max_send_message_size", d.grpc().maxSendMessageSize())),
                    new Config.TtrpcConfig(
                            tt.string("address", d.ttrpc().address()),
                            tt.int32("uid", d.ttrpc().uid()),
                            tt.int32("gid", d.ttrpc().gid())),
                    new Config.DebugConfig(
                            dbg.string("address", d.debug().address()),
                            dbg.int32("uid", d.debug().uid()),
                            dbg.int32("gid", d.debug().gid()),
                            dbg.string("level", d.debug().level()),
                            dbg.string("format", d.debug().format())),
                    new Config.MetricsConfig(
                            m.string("address", d.metrics().address()),
                            m.bool("grpc_histogram", d.metrics().grpcHistogram())),
                    t.strings("disabled_plugins", d.disabledPlugins()),
                    t.strings("required_plugins", d.requiredPlugins()),
                    t.timeouts(d.timeouts()),
                    t.plugins());
            for (Table sub : List.of(t, g, tt, dbg, m)) sub.warnUnread();
            return c;
        }

        /** One table being read: tracks which keys were read so the others can be warned about. */
        private final class Table {
            final Map<String, Object> map;
            final List<Object> path;
            final Set<String> read = new HashSet<>();

            Table(Map<String, Object> map, List<Object> path) {
                this.map = map;
                this.path = path;
            }

            private Object get(String key) {
                read.add(key);
                return map.get(key);
            }

            private List<Object> at(String key) {
                return KeyPath.child(path, key);
            }

            Table table(String key) {
                Object v = get(key);
                return new Table(v == null ? Map.of() : ConfigDecoder.table(v, at(key)), at(key));
            }

            String string(String key, String def) {
                Object v = get(key);
                return v == null ? def : ConfigDecoder.string(v, at(key));
            }

            int int32(String key, int def) {
                Object v = get(key);
                return v == null ? def : ConfigDecoder.int32(v, at(key));
            }

            boolean bool(String key, boolean def) {
                Object v = get(key);
                return v == null ? def : ConfigDecoder.bool(v, at(key));
            }

            List<String> strings(String key, List<String> def) {
                Object v = get(key);
                return v == null ? def : ConfigDecoder.strings(v, at(key));
            }

            /** The file's timeouts over the default ones, key by key. */
            Map<String, String> timeouts(Map<String, String> defaults) {
                Object v = get("timeouts");
                if (v == null) return defaults;
                Map<String, String> out = new LinkedHashMap<>(defaults);
                ConfigDecoder.table(v, at("timeouts")).forEach((k, value) ->
                        out.put(k, ConfigDecoder.string(value, KeyPath.child(at("timeouts"), k))));
                return out;
            }

            /** Plugin sections, kept raw: each plugin decodes its own at init. */
            Map<String, Map<String, Object>> plugins() {
                Object v = get("plugins");
                if (v == null) return Map.of();
                Map<String, Map<String, Object>> out = new LinkedHashMap<>();
                ConfigDecoder.table(v, at("plugins")).forEach((uri, table) ->
                        out.put(uri, ConfigDecoder.table(table, KeyPath.child(at("plugins"), uri))));
                return out;
            }

            void warnUnread() {
                for (String k : map.keySet()) if (!read.contains(k)) warn(at(k), "unknown key, ignored");
            }
        }

        private int version(Object v) {
            if (v == null) return 1; // absent: containerd 1.x reads the file as version 1
            if (!(v instanceof Long l)) {
                throw new ConfigException(List.of("version"), "expected integer, got " + ConfigDecoder.describe(v));
            }
            if (l > CURRENT_VERSION || l < 0) {
                throw new ConfigException(List.of("version"),
                        "unsupported config version " + l + " (jcontainerd reads versions 1 and 2)");
            }
            if (l == 1) warn(List.of("version"), "config version 1 is deprecated, please switch to version 2");
            return l == 0 ? 1 : l.intValue();
        }

        /** Version 1 names plugins by id alone; give each table and plugin list entry its full URI. */
        private void migrateV1(Map<String, Object> top) {
            if (top.get("plugins") instanceof Map<?, ?> plugins) {
                Map<String, Object> renamed = new LinkedHashMap<>();
                plugins.forEach((k, v) -> renamed.put(v1Uri(List.of("plugins", k), (String) k), v));
                top.put("plugins", renamed);
            }
            for (String list : List.of("disabled_plugins", "required_plugins")) {
                if (top.get(list) instanceof List<?> ids) {
                    List<Object> out = new ArrayList<>();
                    for (int i = 0; i < ids.size(); i++) {
                        Object id = ids.get(i);
                        out.add(id instanceof String s ? v1Uri(List.of(list, i), s) : id);
                    }
                    top.put(list, out);
                }
            }
        }

        private String v1Uri(List<Object> at, String id) {
            if (id.contains(".")) return id;
            String uri = V1_PLUGIN_IDS.get(id);
            if (uri == null) {
                uri = id.endsWith("-service") ? "io.containerd.service.v1." + id : "io.containerd.grpc.v1." + id;
            }
            warn(at, "version 1 plugin id \"" + id + "\" read as \"" + uri + "\"; set version = 2 and use plugin URIs");
            return uri;
        }

        /** As containerd 1.x requires of version 2 files: plugin URIs are type.id with a 3-part type. */
        private void validatePluginUris(Map<String, Object> top) {
            if (top.get("plugins") instanceof Map<?, ?> plugins) {
                for (Object k : plugins.keySet()) checkUri(List.of("plugins", k), "plugin key", (String) k);
            }
            for (String list : List.of("disabled_plugins", "required_plugins")) {
                if (top.get(list) instanceof List<?> uris) {
                    String what = list.startsWith("disabled") ? "disabled plugin" : "required plugin";
                    for (int i = 0; i < uris.size(); i++) {
                        if (uris.get(i) instanceof String s) checkUri(List.of(list, i), what, s);
                    }
                }
            }
        }

        private static void checkUri(List<Object> at, String what, String uri) {
            if (uri.split("\\.", -1).length < 4) {
                throw new ConfigException(at, "invalid " + what + " URI \"" + uri + "\" expect io.containerd.x.vx");
            }
        }

        private void ignore(Map<String, Object> table, List<Object> parent, String key) {
            Object v = table.remove(key);
            if (v != null && !isZero(v)) {
                warn(KeyPath.child(parent, key), "not supported by jcontainerd, ignored");
            }
        }

        /** Go's zero values, which containerd's own {@code config default} prints for unset keys. */
        private static boolean isZero(Object v) {
            return switch (v) {
                case String s -> s.isEmpty();
                case Long l -> l == 0;
                case Double d -> d == 0;
                case Boolean b -> !b;
                case List<?> l -> l.isEmpty();
                case Map<?, ?> m -> m.values().stream().allMatch(Parse::isZero);
                default -> false;
            };
        }

        private void warn(List<Object> key, String message) {
            KeyLocator.Position pos = locator().find(key);
            String where = pos == null ? source : source + ":" + pos.line();
            warnings.add(new Warning(pos == null ? Integer.MAX_VALUE : pos.line(), where + ": " + KeyPath.display(key) + ": " + message));
        }

        private ConfigException place(ConfigException e) {
            if (e.file() != null) return e;
            if (e.line() > 0) {
                // a syntax error: Jackson knows where, the text tells which key is written there
                int line = e.line(), column = e.column();
                List<Object> key = locator().keyOnLine(line);
                KeyLocator.Entry dup = e.detail().contains("duplicate key") ? locator().duplicateUpTo(line) : null;
                if (dup != null) {
                    line = dup.line();
                    column = dup.column();
                    key = List.copyOf(dup.path());
                }
                return new ConfigException(source, line, column, key == null ? e.keyPath() : key, e.detail(), e.getCause());
            }
            KeyLocator.Position pos = locator().find(e.keyPath());
            return e.at(source, pos == null ? 0 : pos.line(), 0);
        }

        private KeyLocator locator() {
            if (locator == null) locator = new KeyLocator(text);
            return locator;
        }

        private static Map<String, Object> copy(Map<?, ?> m) {
            Map<String, Object> out = new LinkedHashMap<>();
            m.forEach((k, v) -> out.put((String) k, v));
            return out;
        }
    }
}
