package io.jcontainerd.client;

import java.util.List;

/** A mount as the snapshotters describe one (type, source, options). */
public record Mount(String type, String source, String target, List<String> options) {
    public Mount {
        options = options == null ? List.of() : List.copyOf(options);
        target = target == null ? "" : target;
    }

    static Mount of(io.jcontainerd.api.types.Mount m) {
        return new Mount(m.getType(), m.getSource(), m.getTarget(), m.getOptionsList());
    }

    io.jcontainerd.api.types.Mount toProto() {
        return io.jcontainerd.api.types.Mount.newBuilder().setType(type).setSource(source).setTarget(target)
                .addAllOptions(options).build();
    }

    static List<Mount> of(List<io.jcontainerd.api.types.Mount> ms) {
        return ms.stream().map(Mount::of).toList();
    }
}
