package io.jcontainerd.config;

import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.lang.reflect.WildcardType;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * Overlays a TOML table (as {@link ConfigLoader} and {@link TomlReader} produce it) onto a config
 * record's defaults, and turns records back into such tables for {@link TomlWriter}.
 *
 * <p>Keys are the snake_case of component names ({@code maxRecvMessageSize} is
 * {@code max_recv_message_size}) unless a component says otherwise with {@link TomlKey}; camelCase and
 * PascalCase spellings are accepted too, since Go's TOML decoders match field names case-insensitively.
 * Supported component types: String, int, long, double, boolean (and boxes), enums (by name),
 * {@link Duration} (Go syntax, "1m30s"), nested records (sub-tables), {@code List<X>},
 * {@code Map<String, X>} and raw {@code Map<String, Object>}/{@code Object}. Absent keys keep their
 * default; lists are replaced; maps are merged by key, each entry overlaid on the default entry if any.
 */
public final class ConfigDecoder {
    private ConfigDecoder() {}

    /** Decodes {@code table} over {@code defaults}; unknown keys are logged as warnings. */
    public static <T> T decode(Map<String, Object> table, T defaults) {
        return decode(table, defaults, w -> System.getLogger(ConfigDecoder.class.getName())
                .log(System.Logger.Level.WARNING, w));
    }

    /** Decodes {@code table} over {@code defaults}; each unknown key is reported to {@code warnings}. */
    public static <T> T decode(Map<String, Object> table, T defaults, Consumer<String> warnings) {
        return decode(List.of(), table, defaults, (path, msg) -> warnings.accept(KeyPath.display(path) + ": " + msg));
    }

    /**
     * Decodes plugin {@code uri}'s table from {@code config} (its {@code [plugins."uri"]} section) over
     * the plugin's defaults; errors and warnings name keys from {@code plugins."uri"} down.
     */
    public static <T> T decodePlugin(Config config, String uri, T defaults, Consumer<String> warnings) {
        Map<String, Object> table = config.plugins().get(uri);
        if (table == null) return defaults;
        return decode(List.of("plugins", uri), table, defaults,
                (path, msg) -> warnings.accept(KeyPath.display(path) + ": " + msg));
    }

    /** The TOML tree of a record: keys in component order, map keys sorted, null components left out. */
    public static Map<String, Object> encode(Record r) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (RecordComponent c : r.getClass().getRecordComponents()) {
            Object v = get(c, r);
            if (v != null) out.put(tomlKey(c), encodeValue(v));
        }
        return out;
    }

    /** A record with Go zero values: "", 0, false, empty collections, zero nested records. */
    public static <T extends Record> T zero(Class<T> type) {
        RecordComponent[] comps = type.getRecordComponents();
        Object[] args = new Object[comps.length];
        for (int i = 0; i < comps.length; i++) args[i] = zeroOf(comps[i].getType());
        return construct(type, comps, args, List.of());
    }

    static <T> T decode(List<Object> path, Map<String, Object> table, T defaults, BiConsumer<List<Object>, String> warn) {
        if (!(defaults instanceof Record)) {
            throw new IllegalArgumentException("config defaults must be a record: " + defaults);
        }
        @SuppressWarnings("unchecked")
        T out = (T) overlay(defaults.getClass(), table, defaults, path, warn);
        return out;
    }

    /** The TOML key of a record component. */
    static String tomlKey(RecordComponent c) {
        TomlKey k = c.getAnnotation(TomlKey.class);
        return k != null ? k.value() : snakeCase(c.getName());
    }

    static String snakeCase(String camel) {
        StringBuilder sb = new StringBuilder(camel.length() + 4);
        for (int i = 0; i < camel.length(); i++) {
            char c = camel.charAt(i);
            if (Character.isUpperCase(c)) {
                char prev = i > 0 ? camel.charAt(i - 1) : 0;
                boolean afterWord = i > 0 && (Character.isLowerCase(prev) || Character.isDigit(prev));
                boolean acronymEnd = i > 0 && Character.isUpperCase(prev)
                        && i + 1 < camel.length() && Character.isLowerCase(camel.charAt(i + 1));
                if (afterWord || acronymEnd) sb.append('_');
                sb.append(Character.toLowerCase(c));
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    private static String normalize(String key) {
        return key.replace("_", "").replace("-", "").toLowerCase(Locale.ROOT);
    }

    private static Object overlay(Class<?> type, Map<String, Object> table, Object base, List<Object> path,
                                  BiConsumer<List<Object>, String> warn) {
        RecordComponent[] comps = type.getRecordComponents();
        Object[] args = new Object[comps.length];
        Map<String, Integer> byKey = new HashMap<>();
        for (int i = 0; i < comps.length; i++) {
            args[i] = get(comps[i], base);
            byKey.put(tomlKey(comps[i]), i);
        }
        Map<String, Integer> byLooseKey = null;
        for (Map.Entry<String, Object> e : table.entrySet()) {
            List<Object> at = KeyPath.child(path, e.getKey());
            Integer i = byKey.get(e.getKey());
            if (i == null) {
                if (byLooseKey == null) {
                    byLooseKey = new HashMap<>();
                    for (int j = 0; j < comps.length; j++) {
                        byLooseKey.put(normalize(comps[j].getName()), j);
                        byLooseKey.put(normalize(tomlKey(comps[j])), j);
                    }
                }
                i = byLooseKey.get(normalize(e.getKey()));
            }
            if (i == null) {
                warn.accept(at, "unknown key, ignored");
                continue;
            }
            args[i] = value(comps[i].getGenericType(), e.getValue(), args[i], at, warn);
        }
        return construct(type, comps, args, path);
    }

    private static Object value(Type type, Object raw, Object def, List<Object> path, BiConsumer<List<Object>, String> warn) {
        if (type instanceof WildcardType w) type = w.getUpperBounds()[0];
        if (type instanceof ParameterizedType pt) {
            Class<?> rawType = (Class<?>) pt.getRawType();
            Type[] args = pt.getActualTypeArguments();
            if (List.class.isAssignableFrom(rawType) || rawType == Iterable.class || rawType == java.util.Collection.class) {
                List<?> in = expect(List.class, raw, "array", path);
                List<Object> out = new ArrayList<>(in.size());
                for (int i = 0; i < in.size(); i++) {
                    out.add(value(args[0], in.get(i), null, KeyPath.child(path, i), warn));
                }
                return Collections.unmodifiableList(out);
            }
            if (Map.class.isAssignableFrom(rawType)) {
                if (args[0] != String.class) throw new IllegalArgumentException("config map keys must be strings: " + type);
                Map<?, ?> in = expect(Map.class, raw, "table", path);
                Map<String, Object> out = def instanceof Map<?, ?> d ? copy(d) : new LinkedHashMap<>();
                for (Map.Entry<?, ?> e : in.entrySet()) {
                    String k = (String) e.getKey();
                    out.put(k, value(args[1], e.getValue(), out.get(k), KeyPath.child(path, k), warn));
                }
                return Collections.unmodifiableMap(out);
            }
            type = rawType;
        }
        if (!(type instanceof Class<?> c)) throw new IllegalArgumentException("unsupported config type " + type);
        if (c == String.class) return string(raw, path);
        if (c == int.class || c == Integer.class) return int32(raw, path);
        if (c == long.class || c == Long.class) return expect(Long.class, raw, "integer", path);
        if (c == double.class || c == Double.class || c == float.class || c == Float.class) {
            double v = raw instanceof Long l ? l.doubleValue() : expect(Double.class, raw, "float", path);
            return c == float.class || c == Float.class ? (Object) (float) v : (Object) v;
        }
        if (c == boolean.class || c == Boolean.class) return bool(raw, path);
        if (c == Duration.class) {
            String s = expect(String.class, raw, "duration string (like \"5s\" or \"1m30s\")", path);
            try {
                return GoDuration.parse(s);
            } catch (IllegalArgumentException e) {
                throw new ConfigException(path, e.getMessage());
            }
        }
        if (c.isEnum()) {
            String s = expect(String.class, raw, "string", path);
            List<String> names = new ArrayList<>();
            for (Object constant : c.getEnumConstants()) {
                String name = ((Enum<?>) constant).name();
                if (normalize(name).equals(normalize(s))) return constant;
                names.add(name.toLowerCase(Locale.ROOT));
            }
            throw new ConfigException(path, "invalid value " + KeyPath.quote(s) + ", expected one of " + names);
        }
        if (c.isRecord()) {
            Map<?, ?> in = expect(Map.class, raw, "table", path);
            @SuppressWarnings("unchecked")
            Object base = def != null ? def : zero((Class<? extends Record>) c);
            @SuppressWarnings("unchecked")
            Map<String, Object> table = (Map<String, Object>) in;
            return overlay(c, table, base, path, warn);
        }
        if (c == Map.class) return expect(Map.class, raw, "table", path);
        if (c == List.class) return expect(List.class, raw, "array", path);
        if (c == Object.class) return raw;
        throw new IllegalArgumentException("unsupported config type " + c.getName() + " at " + KeyPath.display(path));
    }

    // Typed reads of single values, shared with ConfigLoader's reflection-free decoding of Config.

    static String string(Object raw, List<Object> path) {
        return expect(String.class, raw, "string", path);
    }

    static int int32(Object raw, List<Object> path) {
        long v = expect(Long.class, raw, "integer", path);
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
            throw new ConfigException(path, "integer " + v + " is out of range (32-bit)");
        }
        return (int) v;
    }

    static boolean bool(Object raw, List<Object> path) {
        return expect(Boolean.class, raw, "boolean", path);
    }

    static List<String> strings(Object raw, List<Object> path) {
        List<?> in = expect(List.class, raw, "array", path);
        List<String> out = new ArrayList<>(in.size());
        for (int i = 0; i < in.size(); i++) out.add(string(in.get(i), KeyPath.child(path, i)));
        return Collections.unmodifiableList(out);
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> table(Object raw, List<Object> path) {
        return (Map<String, Object>) expect(Map.class, raw, "table", path);
    }

    private static Map<String, Object> copy(Map<?, ?> m) {
        Map<String, Object> out = new LinkedHashMap<>();
        m.forEach((k, v) -> out.put((String) k, v));
        return out;
    }

    private static <V> V expect(Class<V> type, Object raw, String what, List<Object> path) {
        if (type.isInstance(raw)) return type.cast(raw);
        throw new ConfigException(path, "expected " + what + ", got " + describe(raw));
    }

    /** A TOML value as an error message shows it: its TOML type, and the value when short. */
    static String describe(Object v) {
        return switch (v) {
            case String s -> "string " + KeyPath.quote(s.length() > 40 ? s.substring(0, 40) + "..." : s);
            case Long l -> "integer " + l;
            case Double d -> "float " + d;
            case Boolean b -> "boolean " + b;
            case List<?> l -> "array";
            case Map<?, ?> m -> "table";
            case null -> "nothing";
            default -> v.getClass().getSimpleName();
        };
    }

    static Object encodeValue(Object v) {
        return switch (v) {
            case String s -> s;
            case Boolean b -> b;
            case Long l -> l;
            case Integer i -> i.longValue();
            case Short s -> s.longValue();
            case Byte b -> b.longValue();
            case Double d -> d;
            case Float f -> f.doubleValue();
            case Duration d -> GoDuration.format(d);
            case Enum<?> e -> e.name().toLowerCase(Locale.ROOT);
            case Record r -> encode(r);
            case List<?> l -> {
                List<Object> out = new ArrayList<>(l.size());
                for (Object e : l) if (e != null) out.add(encodeValue(e));
                yield out;
            }
            case Map<?, ?> m -> {
                // sorted keys: Map.of iteration order changes from run to run, and output must be stable
                Map<String, Object> out = new TreeMap<>();
                m.forEach((k, e) -> {
                    if (e != null) out.put(String.valueOf(k), encodeValue(e));
                });
                yield new LinkedHashMap<>(out);
            }
            default -> throw new IllegalArgumentException("cannot write " + v.getClass().getName() + " as TOML");
        };
    }

    private static Object zeroOf(Class<?> c) {
        if (c == String.class) return "";
        if (c == int.class || c == Integer.class) return 0;
        if (c == long.class || c == Long.class) return 0L;
        if (c == double.class || c == Double.class) return 0.0;
        if (c == float.class || c == Float.class) return 0f;
        if (c == boolean.class || c == Boolean.class) return false;
        if (c == short.class) return (short) 0;
        if (c == byte.class) return (byte) 0;
        if (c == char.class) return '\0';
        if (c == Duration.class) return Duration.ZERO;
        if (List.class.isAssignableFrom(c)) return List.of();
        if (Map.class.isAssignableFrom(c)) return Map.of();
        if (c.isRecord()) {
            @SuppressWarnings("unchecked")
            Class<? extends Record> r = (Class<? extends Record>) c;
            return zero(r);
        }
        return null;
    }

    private static Object get(RecordComponent c, Object r) {
        try {
            var accessor = c.getAccessor();
            accessor.setAccessible(true); // records nested in non-exported or package-private classes
            return accessor.invoke(r);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        } catch (InvocationTargetException e) {
            throw new IllegalStateException(e.getCause());
        }
    }

    private static <T> T construct(Class<T> type, RecordComponent[] comps, Object[] args, List<Object> path) {
        Class<?>[] types = new Class<?>[comps.length];
        for (int i = 0; i < comps.length; i++) types[i] = comps[i].getType();
        try {
            Constructor<T> ctor = type.getDeclaredConstructor(types);
            ctor.setAccessible(true);
            return ctor.newInstance(args);
        } catch (InvocationTargetException e) {
            // the record's own validation rejected the values
            Throwable cause = e.getCause();
            if (cause instanceof ConfigException ce) throw ce.under(path);
            throw new ConfigException(null, 0, 0, path, "invalid configuration: " + cause.getMessage(), cause);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot construct " + type.getName(), e);
        }
    }
}
