package io.jcontainerd.filters;

import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/** One {@code fieldpath [operator value]} term. {@code regexp} is set for {@link Op#MATCHES} only. */
record Selector(List<String> fieldpath, Op op, String value, Pattern regexp) implements Filter {

    enum Op { PRESENT, EQUAL, NOT_EQUAL, MATCHES }

    @Override
    public boolean match(Adaptor adaptor) {
        Optional<String> field = adaptor.field(fieldpath);
        // As in containerd, an absent field reads as "" for != and ~=, so "name!=x" matches objects
        // without a name and "labels.x~=^$" matches objects without that label.
        String v = field.orElse("");
        return switch (op) {
            case PRESENT -> field.isPresent();
            case EQUAL -> field.isPresent() && v.equals(value);
            case NOT_EQUAL -> !v.equals(value);
            case MATCHES -> regexp.matcher(v).find();
        };
    }
}
