package io.jcontainerd.shim;

import java.util.List;

/**
 * The shim's command line, parsed the way Go's flag package parses containerd shims' ({@code -name value},
 * {@code -name=value}, {@code --name value}, boolean {@code -debug}); parsing stops at the first
 * non-flag argument, the action ({@code start}, {@code delete}; none: serve).
 */
public record Flags(String namespace, String id, String address, String publishBinary, String bundle, String socket,
                    String idleTimeout, boolean debug, boolean version, String action) {

    public static Flags parse(List<String> args) {
        String namespace = "", id = "", address = "", publishBinary = "", bundle = "", socket = "", idleTimeout = "", action = "";
        boolean debug = false, version = false;
        int i = 0;
        while (i < args.size()) {
            String a = args.get(i);
            if (a.equals("--") ) {
                i++;
                break;
            }
            if (!a.startsWith("-") || a.equals("-")) break;
            String name = a.startsWith("--") ? a.substring(2) : a.substring(1);
            String value = null;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            }
            i++;
            switch (name) {
                case "debug" -> debug = value == null || Boolean.parseBoolean(value);
                case "v", "version" -> version = value == null || Boolean.parseBoolean(value);
                default -> {
                    if (value == null) {
                        if (i >= args.size()) throw new IllegalArgumentException("flag needs an argument: -" + name);
                        value = args.get(i++);
                    }
                    switch (name) {
                        case "namespace" -> namespace = value;
                        case "id" -> id = value;
                        case "address" -> address = value;
                        case "publish-binary" -> publishBinary = value;
                        case "bundle" -> bundle = value;
                        case "socket" -> socket = value;
                        case "idle-timeout" -> idleTimeout = value;
                        default -> throw new IllegalArgumentException("flag provided but not defined: -" + name);
                    }
                }
            }
        }
        if (i < args.size()) action = args.get(i);
        return new Flags(namespace, id, address, publishBinary, bundle, socket, idleTimeout, debug, version, action);
    }
}
