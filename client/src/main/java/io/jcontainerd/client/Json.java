package io.jcontainerd.client;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small JSON reader and writer for image manifests, configs, registry and docker config files:
 * objects are {@code LinkedHashMap<String,Object>} (order kept), arrays {@code List<Object>}, numbers
 * {@code Long} or {@code BigDecimal}, plus String, Boolean and null.
 */
public final class Json {
    private final String s;
    private int i;

    private Json(String s) {
        this.s = s;
    }

    public static Object parse(byte[] utf8) {
        return parse(new String(utf8, StandardCharsets.UTF_8));
    }

    public static Object parse(String text) {
        Json p = new Json(text);
        p.ws();
        Object v = p.value();
        p.ws();
        if (p.i != p.s.length()) throw p.error("trailing data");
        return v;
    }

    /** Parses a JSON object; anything else is an error. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> parseObject(byte[] utf8) {
        Object v = parse(utf8);
        if (!(v instanceof Map)) throw new IllegalArgumentException("invalid JSON: expected an object");
        return (Map<String, Object>) v;
    }

    // --- typed accessors, tolerant of missing keys ---

    public static String str(Map<String, Object> m, String key) {
        return m.get(key) instanceof String v ? v : null;
    }

    public static long num(Map<String, Object> m, String key) {
        return m.get(key) instanceof Number n ? n.longValue() : 0;
    }

    @SuppressWarnings("unchecked")
    public static Map<String, Object> obj(Map<String, Object> m, String key) {
        return m.get(key) instanceof Map<?, ?> v ? (Map<String, Object>) v : null;
    }

    @SuppressWarnings("unchecked")
    public static List<Object> arr(Map<String, Object> m, String key) {
        return m.get(key) instanceof List<?> v ? (List<Object>) v : List.of();
    }

    /** A {@code map<string,string>} member (annotations, labels); empty when absent. */
    public static Map<String, String> strings(Map<String, Object> m, String key) {
        Map<String, String> out = new LinkedHashMap<>();
        Map<String, Object> o = obj(m, key);
        if (o != null) o.forEach((k, v) -> {
            if (v instanceof String sv) out.put(k, sv);
        });
        return out;
    }

    // --- writing ---

    public static String write(Object v) {
        StringBuilder b = new StringBuilder();
        write(b, v);
        return b.toString();
    }

    /** As Go's json.MarshalIndent(v, "", indent): one member per line, "key": value. */
    public static String pretty(Object v, String indent) {
        StringBuilder b = new StringBuilder();
        pretty(b, v, indent, "");
        return b.toString();
    }

    private static void pretty(StringBuilder b, Object v, String indent, String at) {
        switch (v) {
            case Map<?, ?> m when !m.isEmpty() -> {
                b.append("{\n");
                int i = 0;
                for (var e : m.entrySet()) {
                    b.append(at).append(indent);
                    quote(b, String.valueOf(e.getKey()));
                    b.append(": ");
                    pretty(b, e.getValue(), indent, at + indent);
                    if (++i < m.size()) b.append(',');
                    b.append('\n');
                }
                b.append(at).append('}');
            }
            case List<?> l when !l.isEmpty() -> {
                b.append("[\n");
                for (int i = 0; i < l.size(); i++) {
                    b.append(at).append(indent);
                    pretty(b, l.get(i), indent, at + indent);
                    if (i < l.size() - 1) b.append(',');
                    b.append('\n');
                }
                b.append(at).append(']');
            }
            case null, default -> write(b, v);
        }
    }

    public static byte[] bytes(Object v) {
        return write(v).getBytes(StandardCharsets.UTF_8);
    }

    private static void write(StringBuilder b, Object v) {
        switch (v) {
            case null -> b.append("null");
            case String str -> quote(b, str);
            case Boolean bool -> b.append(bool);
            case Number n -> b.append(n);
            case Map<?, ?> m -> {
                b.append('{');
                boolean first = true;
                for (var e : m.entrySet()) {
                    if (!first) b.append(',');
                    first = false;
                    quote(b, String.valueOf(e.getKey()));
                    b.append(':');
                    write(b, e.getValue());
                }
                b.append('}');
            }
            case Iterable<?> it -> {
                b.append('[');
                boolean first = true;
                for (Object o : it) {
                    if (!first) b.append(',');
                    first = false;
                    write(b, o);
                }
                b.append(']');
            }
            default -> throw new IllegalArgumentException("not JSON-writable: " + v.getClass());
        }
    }

    private static void quote(StringBuilder b, String str) {
        b.append('"');
        for (int k = 0; k < str.length(); k++) {
            char c = str.charAt(k);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                // Go's encoder escapes these too; keeping them escaped keeps our output HTML-safe
                case '<', '>', '&' -> b.append("\\u%04x".formatted((int) c));
                default -> {
                    if (c < 0x20) b.append("\\u%04x".formatted((int) c));
                    else b.append(c);
                }
            }
        }
        b.append('"');
    }

    // --- parsing ---

    private Object value() {
        if (i >= s.length()) throw error("unexpected end");
        char c = s.charAt(i);
        return switch (c) {
            case '{' -> object();
            case '[' -> array();
            case '"' -> string();
            case 't' -> literal("true", Boolean.TRUE);
            case 'f' -> literal("false", Boolean.FALSE);
            case 'n' -> literal("null", null);
            default -> {
                if (c == '-' || (c >= '0' && c <= '9')) yield number();
                throw error("unexpected character '" + c + "'");
            }
        };
    }

    private Map<String, Object> object() {
        Map<String, Object> m = new LinkedHashMap<>();
        i++;
        ws();
        if (peek() == '}') {
            i++;
            return m;
        }
        while (true) {
            ws();
            if (peek() != '"') throw error("expected a key");
            String k = string();
            ws();
            expect(':');
            ws();
            m.put(k, value());
            ws();
            char c = next();
            if (c == '}') return m;
            if (c != ',') throw error("expected ',' or '}'");
        }
    }

    private List<Object> array() {
        List<Object> l = new ArrayList<>();
        i++;
        ws();
        if (peek() == ']') {
            i++;
            return l;
        }
        while (true) {
            ws();
            l.add(value());
            ws();
            char c = next();
            if (c == ']') return l;
            if (c != ',') throw error("expected ',' or ']'");
        }
    }

    private String string() {
        i++;
        StringBuilder b = null;
        int start = i;
        while (true) {
            if (i >= s.length()) throw error("unterminated string");
            char c = s.charAt(i);
            if (c == '"') {
                String tail = s.substring(start, i++);
                return b == null ? tail : b.append(tail).toString();
            }
            if (c == '\\') {
                if (b == null) b = new StringBuilder();
                b.append(s, start, i);
                i++;
                char e = next();
                switch (e) {
                    case '"', '\\', '/' -> b.append(e);
                    case 'b' -> b.append('\b');
                    case 'f' -> b.append('\f');
                    case 'n' -> b.append('\n');
                    case 'r' -> b.append('\r');
                    case 't' -> b.append('\t');
                    case 'u' -> {
                        if (i + 4 > s.length()) throw error("bad unicode escape");
                        b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                        i += 4;
                    }
                    default -> throw error("bad escape");
                }
                start = i;
            } else {
                if (c < 0x20) throw error("control character in string");
                i++;
            }
        }
    }

    private Object number() {
        int start = i;
        if (peek() == '-') i++;
        boolean frac = false;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c >= '0' && c <= '9') i++;
            else if (c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') {
                frac = true;
                i++;
            } else break;
        }
        String n = s.substring(start, i);
        try {
            if (!frac) {
                try {
                    return Long.parseLong(n);
                } catch (NumberFormatException big) {
                    return new BigDecimal(n);
                }
            }
            return new BigDecimal(n);
        } catch (NumberFormatException e) {
            throw error("bad number " + n);
        }
    }

    private Object literal(String word, Object v) {
        if (!s.startsWith(word, i)) throw error("unexpected token");
        i += word.length();
        return v;
    }

    private void ws() {
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c == ' ' || c == '\n' || c == '\r' || c == '\t') i++;
            else break;
        }
    }

    private char peek() {
        if (i >= s.length()) throw error("unexpected end");
        return s.charAt(i);
    }

    private char next() {
        char c = peek();
        i++;
        return c;
    }

    private void expect(char c) {
        if (next() != c) throw error("expected '" + c + "'");
    }

    private IllegalArgumentException error(String what) {
        return new IllegalArgumentException("invalid JSON at offset " + i + ": " + what);
    }
}
