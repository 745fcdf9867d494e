package io.jcontainerd.events;

import io.jcontainerd.errdefs.Errdefs;
import io.jcontainerd.namespaces.Namespaces;

/**
 * containerd's event topic rules: {@code /component(/component)*}, each component an identifier
 * (alphanumeric runs joined by single {@code .}, {@code _} or {@code -}, at most 76 characters).
 */
public final class Topics {
    private Topics() {}

    private static final int MAX_IDENTIFIER = 76;

    /** @throws io.jcontainerd.errdefs.ContainerdException INVALID_ARGUMENT when {@code topic} is malformed */
    public static void validate(String topic) {
        String problem = problem(topic);
        if (problem != null) throw Errdefs.invalidArgument("envelope topic %s: %s", quote(topic), problem);
    }

    private static String problem(String topic) {
        if (topic == null || topic.isEmpty()) return "must not be empty";
        if (topic.charAt(0) != '/') return "must start with '/'";
        if (topic.length() == 1) return "must have at least one component";
        for (String component : topic.substring(1).split("/", -1)) {
            String p = identifierProblem(component);
            if (p != null) return "failed validation on component " + quote(component) + ": " + p;
        }
        return null;
    }

    /** Why {@code s} is not a containerd identifier, or null if it is one. */
    static String identifierProblem(String s) {
        if (s.isEmpty()) return "identifier must not be empty";
        if (s.length() > MAX_IDENTIFIER) return "identifier %s greater than maximum length (%d characters)".formatted(quote(s), MAX_IDENTIFIER);
        if (!Namespaces.isIdentifier(s)) return "identifier %s must match %s".formatted(quote(s), Namespaces.IDENTIFIER_RE);
        return null;
    }

    private static String quote(String s) {
        return s == null ? "\"\"" : '"' + s.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }
}
