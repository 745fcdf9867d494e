package io.jcontainerd.config;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Finds the line and column where a key path is written in TOML text. Jackson's TOML parser reports
 * positions only for syntax errors, so type errors and warnings found later on the tree are placed by
 * scanning the text's table headers and {@code key = value} lines. Only used when there is something to
 * report; keys inside inline tables resolve to their nearest enclosing key that is on its own line.
 */
final class KeyLocator {
    record Position(int line, int column) {}

    record Entry(List<String> path, int line, int column, boolean header) {}

    private final List<Entry> entries = new ArrayList<>();

    KeyLocator(String text) {
        List<String> table = List.of();
        String multiline = null; // the delimiter of a multi-line string we are inside
        String[] lines = text.split("\r?\n", -1);
        for (int n = 0; n < lines.length; n++) {
            String line = lines[n];
            if (multiline != null) {
                if (count(line, multiline) % 2 == 1) multiline = null;
                continue;
            }
            int i = skipSpace(line, 0);
            if (i < line.length() && line.charAt(i) == '[') {
                boolean array = line.startsWith("[[", i);
                Cursor c = new Cursor(line, i + (array ? 2 : 1));
                List<String> keys = c.keys();
                if (keys != null) {
                    table = keys;
                    entries.add(new Entry(keys, n + 1, i + 1, true));
                }
                continue;
            }
            Cursor c = new Cursor(line, i);
            List<String> keys = c.keys();
            if (keys != null && c.at('=')) {
                List<String> full = new ArrayList<>(table);
                full.addAll(keys);
                entries.add(new Entry(List.copyOf(full), n + 1, i + 1, false));
                String rest = line.substring(c.pos + 1);
                for (String delim : new String[] {"\"\"\"", "'''"}) {
                    if (count(rest, delim) % 2 == 1) multiline = delim;
                }
            }
        }
    }

    /**
     * Where {@code path} (array indices ignored) is written; else the first table or key below it
     * (a table only defined through sub-tables); else its longest written prefix; null if nowhere.
     */
    Position find(List<Object> path) {
        List<String> keys = new ArrayList<>();
        for (Object c : path) if (c instanceof String s) keys.add(s);
        if (keys.isEmpty()) return null;
        for (Entry e : entries) {
            if (e.path.equals(keys)) return new Position(e.line, e.column);
        }
        for (Entry e : entries) {
            if (e.path.size() > keys.size() && e.path.subList(0, keys.size()).equals(keys)) {
                return new Position(e.line, e.column);
            }
        }
        for (int len = keys.size() - 1; len > 0; len--) {
            List<String> prefix = keys.subList(0, len);
            for (Entry e : entries) {
                if (e.path.equals(prefix)) return new Position(e.line, e.column);
            }
        }
        return null;
    }

    /**
     * The last assignment up to {@code line} of a key assigned before it. Jackson reports a duplicate
     * key where its lexer stopped, which can be lines after the duplicate.
     */
    Entry duplicateUpTo(int line) {
        Entry found = null;
        Set<List<String>> seen = new HashSet<>();
        for (Entry e : entries) {
            if (e.line > line) break;
            if (!e.header && !seen.add(e.path)) found = e;
        }
        return found;
    }

    /** The key path written on a line (a table header or an assignment), or null. */
    List<Object> keyOnLine(int line) {
        for (Entry e : entries) if (e.line == line) return List.copyOf(e.path);
        return null;
    }

    private static int count(String s, String needle) {
        int n = 0;
        for (int i = s.indexOf(needle); i >= 0; i = s.indexOf(needle, i + needle.length())) n++;
        return n;
    }

    private static int skipSpace(String s, int i) {
        while (i < s.length() && (s.charAt(i) == ' ' || s.charAt(i) == '\t')) i++;
        return i;
    }

    /** Reads a dotted key (bare, "basic" or 'literal' parts) from a position in one line. */
    private static final class Cursor {
        final String s;
        int pos;

        Cursor(String s, int pos) {
            this.s = s;
            this.pos = pos;
        }

        List<String> keys() {
            List<String> keys = new ArrayList<>();
            while (true) {
                pos = skipSpace(s, pos);
                String k = simpleKey();
                if (k == null) return null;
                keys.add(k);
                pos = skipSpace(s, pos);
                if (!at('.')) return List.copyOf(keys);
                pos++;
            }
        }

        boolean at(char c) {
            return pos < s.length() && s.charAt(pos) == c;
        }

        private String simpleKey() {
            if (at('"')) return quoted('"');
            if (at('\'')) return quoted('\'');
            int start = pos;
            while (pos < s.length() && KeyPath.isBareChar(s.charAt(pos))) pos++;
            return pos > start ? s.substring(start, pos) : null;
        }

        private String quoted(char q) {
            StringBuilder sb = new StringBuilder();
            for (int i = pos + 1; i < s.length(); i++) {
                char c = s.charAt(i);
                if (c == q) {
                    pos = i + 1;
                    return sb.toString();
                }
                if (c == '\\' && q == '"' && i + 1 < s.length()) {
                    char e = s.charAt(++i);
                    switch (e) {
                        case 'n' -> sb.append('\n');
                        case 't' -> sb.append('\t');
                        case 'r' -> sb.append('\r');
                        case 'b' -> sb.append('\b');
                        case 'f' -> sb.append('\f');
                        case 'u', 'U' -> {
                            int len = e == 'u' ? 4 : 8;
                            if (i + len >= s.length()) return null;
                            try {
                                sb.appendCodePoint(Integer.parseInt(s.substring(i + 1, i + 1 + len), 16));
                            } catch (IllegalArgumentException bad) {
                                return null;
                            }
                            i += len;
                        }
                        default -> sb.append(e);
                    }
                } else {
                    sb.append(c);
                }
            }
            return null;
        }
    }
}
