package io.jcontainerd.filters;

import java.util.List;
import java.util.Optional;

/**
 * Exposes an object's fields to a {@link Filter}. A field path such as {@code labels."a.b"} arrives
 * as {@code [labels, a.b]}; an empty result means the field is not present.
 */
@FunctionalInterface
public interface Adaptor {
    Optional<String> field(List<String> path);
}
