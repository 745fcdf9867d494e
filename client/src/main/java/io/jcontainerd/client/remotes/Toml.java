package io.jcontainerd.client.remotes;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The part of TOML that hosts.toml files use: tables with dotted and quoted keys, strings (basic
 * and literal), booleans, integers and arrays. Tables keep their order (host order matters).
 */
final class Toml {
    private final String s;
    private int i;
    private int line = 1;

    private Toml(String s) {
        this.s = s;
    }

    static Map<String, Object> parse(String text) {
        Toml t = new Toml(text);
        Map<String, Object> root = new LinkedHashMap<>();
        Map<String, Object> current = root;
        while (true) {
            t.skipBlank();
            if (t.i >= t.s.length()) return root;
            char c = t.s.charAt(t.i);
            if (c == '[') {
                t.i++;
                if (t.peek() == '[') throw t.error("arrays of tables are not supported");
                List<String> path = t.keyPath(']');
                t.i++;
                current = root;
                for (String k : path) current = t.table(current, k);
            } else {
                List<String> path = t.keyPath('=');
                t.i++;
                t.skipSpaces();
                Object v = t.value();
                Map<String, Object> target = current;
                for (int k = 0; k < path.size() - 1; k++) target = t.table(target, path.get(k));
                target.put(path.getLast(), v);
            }
            t.skipSpaces();
            if (t.i < t.s.length() && t.s.charAt(t.i) == '#') t.skipComment();
            if (t.i < t.s.length() && t.s.charAt(t.i) != '\n' && t.s.charAt(t.i) != '\r') throw t.error("expected end of line");
        }
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> table(Map<String, Object> parent, String key) {
        Object o = parent.computeIfAbsent(key, k -> new LinkedHashMap<String, Object>());
        if (!(o instanceof Map)) throw error("key " + key + " is not a table");
        return (Map<String, Object>) o;
    }

    private List<String> keyPath(char end) {
        List<String> path = new ArrayList<>();
        while (true) {
            skipSpaces();
            char c = peek();
            if (c == '"') path.add(basicString());
            else if (c == '\'') path.add(literalString());
            else {
                int start = i;
                while (i < s.length() && (Character.isLetterOrDigit(s.charAt(i)) || s.charAt(i) == '_' || s.charAt(i) == '-')) i++;
                if (start == i) throw error("expected a key");
                path.add(s.substring(start, i));
            }
            skipSpaces();
            c = peek();
            if (c == '.') {
                i++;
            } else if (c == end) {
                return path;
            } else {
                throw error("unexpected '" + c + "' in key");
            }
        }
    }

    private Object value() {
        char c = peek();
        if (c == '"') return basicString();
        if (c == '\'') return literalString();
        if (c == '[') {
            i++;
            List<Object> l = new ArrayList<>();
            while (true) {
                skipBlank();
                if (peek() == ']') {
                    i++;
                    return l;
                }
                l.add(value());
                skipBlank();
                if (peek() == ',') i++;
                else if (peek() != ']') throw error("expected ',' or ']'");
            }
        }
        if (s.startsWith("true", i)) {
            i += 4;
            return Boolean.TRUE;
        }
        if (s.startsWith("false", i)) {
            i += 5;
            return Boolean.FALSE;
        }
        int start = i;
        while (i < s.length() && "+-0123456789_".indexOf(s.charAt(i)) >= 0) i++;
        if (start == i) throw error("unsupported value");
        return Long.parseLong(s.substring(start, i).replace("_", ""));
    }

    private String basicString() {
        i++;
        StringBuilder b = new StringBuilder();
        while (true) {
            char c = next();
            if (c == '"') return b.toString();
            if (c == '\n') throw error("newline in string");
            if (c == '\\') {
                char e = next();
                switch (e) {
                    case 'n' -> b.append('\n');
                    case 't' -> b.append('\t');
                    case 'r' -> b.append('\r');
                    case '"' -> b.append('"');
                    case '\\' -> b.append('\\');
                    case 'u' -> {
                        b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                        i += 4;
                    }
                    default -> throw error("bad escape \\" + e);
                }
            } else {
                b.append(c);
            }
        }
    }

    private String literalString() {
        i++;
        int end = s.indexOf('\'', i);
        if (end < 0) throw error("unterminated string");
        String v = s.substring(i, end);
        i = end + 1;
        return v;
    }

    private void skipSpaces() {
        while (i < s.length() && (s.charAt(i) == ' ' || s.charAt(i) == '\t')) i++;
    }

    private void skipComment() {
        while (i < s.length() && s.charAt(i) != '\n') i++;
    }

    private void skipBlank() {
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c == '\n') {
                line++;
                i++;
            } else if (c == ' ' || c == '\t' || c == '\r') {
                i++;
            } else if (c == '#') {
                skipComment();
            } else {
                return;
            }
        }
    }

    private char peek() {
        if (i >= s.length()) throw error("unexpected end of file");
        return s.charAt(i);
    }

    private char next() {
        char c = peek();
        i++;
        return c;
    }

    private IllegalArgumentException error(String what) {
        return new IllegalArgumentException("line " + line + ": " + what);
    }
}
