package io.jcontainerd.filters;

import java.util.List;

/**
 * A parsed containerd filter. One filter string is a comma-separated list of selectors that must
 * all match ({@code name==foo,labels.bar}); a list of filter strings matches when any of them does.
 * Selectors are {@code fieldpath}, {@code fieldpath==value}, {@code fieldpath!=value} and
 * {@code fieldpath~=regexp}. As in containerd, {@code "}, {@code /} and {@code |} open quoted
 * literals, so a value starting with a slash must be double-quoted ({@code topic=="/tasks/exit"});
 * {@code /.../} and {@code |...|} are accepted only as {@code ~=} values.
 */
@FunctionalInterface
public interface Filter {
    /** Matches everything: what the empty filter string and the empty list parse to. */
    Filter ALWAYS = a -> true;

    boolean match(Adaptor adaptor);

    /**
     * Parses one filter string. The empty string matches everything.
     *
     * @throws io.jcontainerd.errdefs.ContainerdException INVALID_ARGUMENT naming the input and the
     *     byte position of the error
     */
    static Filter parse(String filter) {
        return filter.isEmpty() ? ALWAYS : new Parser(filter).parse();
    }

    /** Parses filter strings that are OR-ed together; no filters at all match everything. */
    static Filter parseAll(List<String> filters) {
        if (filters == null || filters.isEmpty()) return ALWAYS;
        if (filters.size() == 1) return parse(filters.getFirst());
        return new AnyOf(filters.stream().map(Filter::parse).toList());
    }

    static Filter parseAll(String... filters) {
        return parseAll(List.of(filters));
    }

    /** Matches when any member does. */
    record AnyOf(List<Filter> filters) implements Filter {
        @Override
        public boolean match(Adaptor adaptor) {
            for (Filter f : filters) {
                if (f.match(adaptor)) return true;
            }
            return false;
        }
    }

    /** Matches when every member does. */
    record AllOf(List<Filter> filters) implements Filter {
        @Override
        public boolean match(Adaptor adaptor) {
            for (Filter f : filters) {
                if (!f.match(adaptor)) return false;
            }
            return true;
        }
    }
}
