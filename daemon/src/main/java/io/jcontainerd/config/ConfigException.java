package io.jcontainerd.config;

import java.util.List;

/**
 * A configuration that cannot be used: TOML syntax, a value of the wrong type, an unsupported version.
 * The message reads {@code file:line[:column]: key: detail}, each part present when known.
 */
public final class ConfigException extends RuntimeException {
    private final String file;
    private final int line;
    private final int column;
    private final List<Object> key;
    private final String detail;

    public ConfigException(String detail) {
        this(null, 0, 0, List.of(), detail, null);
    }

    ConfigException(List<Object> key, String detail) {
        this(null, 0, 0, key, detail, null);
    }

    ConfigException(String file, int line, int column, List<Object> key, String detail, Throwable cause) {
        super(format(file, line, column, key, detail), cause);
        this.file = file;
        this.line = line;
        this.column = column;
        this.key = List.copyOf(key);
        this.detail = detail;
    }

    /** The same error, placed in a file (line and column 0 when unknown). */
    ConfigException at(String file, int line, int column) {
        return new ConfigException(file, line, column, key, detail, getCause());
    }

    /** The same error with its key path prefixed (e.g. by the plugin table it was decoded from). */
    ConfigException under(List<Object> prefix) {
        return new ConfigException(file, line, column, KeyPath.concat(prefix, key), detail, getCause());
    }

    /** The file the error is in, or null. */
    public String file() {
        return file;
    }

    /** 1-based line, 0 when unknown. */
    public int line() {
        return line;
    }

    /** 1-based column, 0 when unknown. */
    public int column() {
        return column;
    }

    /** The TOML key path in dotted form ({@code grpc.uid}, {@code plugins."a.b.c.d".x}), "" when none. */
    public String key() {
        return KeyPath.display(key);
    }

    List<Object> keyPath() {
        return key;
    }

    /** The error without its location. */
    public String detail() {
        return detail;
    }

    private static String format(String file, int line, int column, List<Object> key, String detail) {
        StringBuilder sb = new StringBuilder();
        if (file != null) {
            sb.append(file);
            if (line > 0) sb.append(':').append(line);
            if (line > 0 && column > 0) sb.append(':').append(column);
            sb.append(": ");
        }
        if (!key.isEmpty()) sb.append(KeyPath.display(key)).append(": ");
        return sb.append(detail).toString();
    }
}
