package io.jcontainerd.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Renders configuration as TOML in containerd's layout: top-level keys first, then tables in name
 * order ({@code [debug] [grpc] [metrics] [plugins] [timeouts] [ttrpc]}), plugin sections sorted by URI,
 * map keys sorted, nested tables indented two spaces per level. What it writes loads back to an equal {@link Config}.
 */
public final class TomlWriter {
    private TomlWriter() {}

    /** The config alone; its raw plugin tables included. */
    public static String write(Config config) {
        return write(config, Map.of());
    }

    /**
     * The config with plugin sections: {@code pluginConfigs} maps plugin URIs to config records (or raw
     * tables), and wins over the same URI's raw table in {@code config.plugins()}; null values are skipped.
     */
    public static String write(Config config, Map<String, ?> pluginConfigs) {
        Map<String, Object> tree = ConfigDecoder.encode(config);
        Map<String, Object> plugins = new TreeMap<>(config.plugins());
        pluginConfigs.forEach((uri, cfg) -> {
            if (cfg != null) plugins.put(uri, cfg);
        });

        Map<String, Object> out = new LinkedHashMap<>();
        for (String k : List.of("version", "root", "state", "temp", "disabled_plugins", "required_plugins")) {
            out.put(k, tree.get(k));
        }
        out.put("debug", tree.get("debug"));
        out.put("grpc", tree.get("grpc"));
        out.put("metrics", tree.get("metrics"));
        out.put("plugins", encodeAll(plugins));
        out.put("timeouts", new TreeMap<>(config.timeouts()));
        out.put("ttrpc", tree.get("ttrpc"));
        StringBuilder sb = new StringBuilder();
        body(sb, List.of(), out, 0); // already encoded, and in containerd's order rather than sorted
        return sb.toString();
    }

    /**
     * Any TOML tree, keys sorted: tables as maps (or records), arrays as lists, durations, enums,
     * numbers, booleans and strings as values.
     */
    public static String writeTable(Map<String, ?> table) {
        StringBuilder sb = new StringBuilder();
        body(sb, List.of(), encodeAll(table), 0);
        return sb.toString();
    }

    /** Records, durations, enums and small numbers turned into plain TOML values; null entries dropped. */
    @SuppressWarnings("unchecked")
    private static Map<String, Object> encodeAll(Map<String, ?> m) {
        return (Map<String, Object>) ConfigDecoder.encodeValue(m);
    }

    /** Keys of {@code table} at {@code path}: plain values, then sub-tables, then arrays of tables. */
    private static void body(StringBuilder sb, List<String> path, Map<String, Object> table, int depth) {
        String indent = "  ".repeat(depth);
        List<Map.Entry<String, Object>> tables = new ArrayList<>();
        for (Map.Entry<String, Object> e : table.entrySet()) {
            Object v = e.getValue();
            if (v == null) continue;
            if (v instanceof Map<?, ?> || isTableArray(v)) {
                tables.add(e);
            } else {
                sb.append(indent).append(KeyPath.key(e.getKey())).append(" = ");
                inline(sb, v);
                sb.append('\n');
            }
        }
        for (Map.Entry<String, Object> e : tables) {
            List<String> sub = new ArrayList<>(path);
            sub.add(e.getKey());
            String header = header(sub);
            if (e.getValue() instanceof Map<?, ?> m) {
                sb.append('\n').append(indent).append('[').append(header).append("]\n");
                body(sb, sub, asTable(m), depth + 1);
            } else {
                for (Object element : (List<?>) e.getValue()) {
                    sb.append('\n').append(indent).append("[[").append(header).append("]]\n");
                    body(sb, sub, asTable((Map<?, ?>) element), depth + 1);
                }
            }
        }
    }

    private static boolean isTableArray(Object v) {
        if (!(v instanceof List<?> l) || l.isEmpty()) return false;
        for (Object e : l) if (!(e instanceof Map<?, ?>)) return false;
        return true;
    }

    private static String header(List<String> path) {
        StringBuilder sb = new StringBuilder();
        for (String k : path) {
            if (!sb.isEmpty()) sb.append('.');
            sb.append(KeyPath.key(k));
        }
        return sb.toString();
    }

    private static void inline(StringBuilder sb, Object v) {
        switch (v) {
            case String s -> sb.append(KeyPath.quote(s));
            case Boolean b -> sb.append(b);
            case Double d -> sb.append(floatText(d));
            case Long l -> sb.append(l);
            case List<?> l -> {
                sb.append('[');
                for (int i = 0; i < l.size(); i++) {
                    if (i > 0) sb.append(", ");
                    inline(sb, l.get(i));
                }
                sb.append(']');
            }
            case Map<?, ?> m -> {
                sb.append('{');
                boolean first = true;
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    if (e.getValue() == null) continue;
                    sb.append(first ? " " : ", ").append(KeyPath.key(String.valueOf(e.getKey()))).append(" = ");
                    inline(sb, e.getValue());
                    first = false;
                }
                sb.append(first ? "}" : " }");
            }
            default -> throw new IllegalArgumentException("cannot write " + v.getClass().getName() + " as TOML");
        }
    }

    private static String floatText(double d) {
        if (Double.isNaN(d)) return "nan";
        if (Double.isInfinite(d)) return d > 0 ? "inf" : "-inf";
        return Double.toString(d); // always has a '.' or an exponent, so it stays a TOML float
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> asTable(Map<?, ?> m) {
        return (Map<String, Object>) m;
    }
}
