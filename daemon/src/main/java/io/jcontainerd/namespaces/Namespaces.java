package io.jcontainerd.namespaces;

import io.grpc.Context;
import io.grpc.Metadata;
import io.jcontainerd.errdefs.ContainerdException;
import io.jcontainerd.errdefs.ErrorKind;
import io.jcontainerd.errdefs.Errdefs;
import java.util.Map;

/**
 * Namespace identity for requests: the header it travels in, the call-scoped value, and the
 * identifier and label rules containerd applies to namespaces (and to most other names).
 */
public final class Namespaces {
    private Namespaces() {}

    public static final String DEFAULT = "default";
    /** gRPC metadata key carrying the namespace. */
    public static final String GRPC_HEADER = "containerd-namespace";
    /** ttrpc metadata key carrying the namespace. */
    public static final String TTRPC_HEADER = "containerd-namespace-ttrpc";

    public static final Metadata.Key<String> GRPC_KEY = Metadata.Key.of(GRPC_HEADER, Metadata.ASCII_STRING_MARSHALLER);
    /** The namespace of the current gRPC call, set by {@link NamespaceInterceptor}; null when absent. */
    public static final Context.Key<String> CONTEXT_KEY = Context.key(GRPC_HEADER);

    private static final int MAX_IDENTIFIER = 76;
    private static final int MAX_LABEL = 4096;
    /** containerd's identifier grammar, as its error messages print it. */
    public static final String IDENTIFIER_RE = "^[A-Za-z0-9]+(?:[._-](?:[A-Za-z0-9]+))*$";

    /** The current call's namespace, validated; FailedPrecondition when the request carries none. */
    public static String required() {
        String ns = CONTEXT_KEY.get();
        if (ns == null || ns.isEmpty()) throw Errdefs.failedPrecondition("namespace is required");
        try {
            validateIdentifier(ns);
        } catch (ContainerdException e) {
            throw new ContainerdException(ErrorKind.INVALID_ARGUMENT, "namespace validation: " + e.getMessage());
        }
        return ns;
    }

    /** containerd's identifier rule: alphanumerics joined by single '.', '_' or '-', at most 76 chars. */
    public static void validateIdentifier(String s) {
        if (s == null || s.isEmpty()) throw Errdefs.invalidArgument("identifier must not be empty");
        if (s.length() > MAX_IDENTIFIER) {
            throw Errdefs.invalidArgument("identifier \"%s\" greater than maximum length (%d characters)", s, MAX_IDENTIFIER);
        }
        if (!isIdentifier(s)) throw Errdefs.invalidArgument("identifier \"%s\" must match %s", s, IDENTIFIER_RE);
    }

    /**
     * Whether {@code s} matches {@link #IDENTIFIER_RE} (length aside): alphanumeric runs joined by single
     * '.', '_' or '-'. A loop rather than a regex: it runs on every call, mostly before the JIT has
     * compiled anything, where a regex match costs dozens of interpreted calls per character.
     */
    public static boolean isIdentifier(CharSequence s) {
        boolean runOpen = false; // inside an alphanumeric run: a separator may follow
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
                runOpen = true;
            } else if ((c == '.' || c == '_' || c == '-') && runOpen) {
                runOpen = false;
            } else {
                return false;
            }
        }
        return runOpen;
    }

    /** A label's key and value together may not exceed 4096 bytes. */
    public static void validateLabel(String key, String value) {
        int size = utf8Length(key) + utf8Length(value);
        if (size > MAX_LABEL) {
            String shown = key.length() > 10 ? key.substring(0, 10) : key;
            throw Errdefs.invalidArgument("label key and value greater than maximum size (%d bytes), key: %s", MAX_LABEL, shown);
        }
    }

    public static void validateLabels(Map<String, String> labels) {
        labels.forEach(Namespaces::validateLabel);
    }

    private static int utf8Length(String s) {
        int n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) n++;
            else if (c < 0x800) n += 2;
            else if (Character.isHighSurrogate(c)) { n += 4; i++; }
            else n += 3;
        }
        return n;
    }
}
