package io.jcontainerd.config;

import java.util.ArrayList;
import java.util.List;

/**
 * TOML key paths as lists of components: a {@code String} per table key, an {@code Integer} per
 * array index. Displayed dotted, quoting keys that are not bare ({@code plugins."io.containerd.gc.v1.scheduler"}).
 */
final class KeyPath {
    private KeyPath() {}

    static List<Object> concat(List<Object> a, List<Object> b) {
        List<Object> out = new ArrayList<>(a.size() + b.size());
        out.addAll(a);
        out.addAll(b);
        return List.copyOf(out);
    }

    static List<Object> child(List<Object> parent, Object component) {
        List<Object> out = new ArrayList<>(parent.size() + 1);
        out.addAll(parent);
        out.add(component);
        return List.copyOf(out);
    }

    static String display(List<Object> path) {
        StringBuilder sb = new StringBuilder();
        for (Object c : path) {
            if (c instanceof Integer i) {
                sb.append('[').append(i).append(']');
            } else {
                if (!sb.isEmpty()) sb.append('.');
                sb.append(key((String) c));
            }
        }
        return sb.toString();
    }

    /** A key as TOML writes it: bare when it can be, else a quoted basic string. */
    static String key(String k) {
        return isBare(k) ? k : quote(k);
    }

    static boolean isBare(String k) {
        if (k.isEmpty()) return false;
        for (int i = 0; i < k.length(); i++) {
            if (!isBareChar(k.charAt(i))) return false;
        }
        return true;
    }

    static boolean isBareChar(char c) {
        return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-';
    }

    /** A TOML basic string literal. */
    static String quote(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\b' -> sb.append("\\b");
                case '\t' -> sb.append("\\t");
                case '\n' -> sb.append("\\n");
                case '\f' -> sb.append("\\f");
                case '\r' -> sb.append("\\r");
                default -> {
                    if (c < 0x20 || c == 0x7f) sb.append("\\u%04X".formatted((int) c));
                    else sb.append(c);
                }
            }
        }
        return sb.append('"').toString();
    }
}
