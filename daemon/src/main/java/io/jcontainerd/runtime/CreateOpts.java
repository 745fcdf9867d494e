package io.jcontainerd.runtime;

import com.google.protobuf.Any;
import io.jcontainerd.mount.Mount;
import java.util.List;

/**
 * What creating a task takes (containerd's runtime.CreateOpts): the container's OCI spec (a JSON Any),
 * its root filesystem mounts, stdio, a checkpoint directory to restore from (empty: none), the runtime
 * name or shim path, and the runtime's options from the container record and from the request (the
 * request's win).
 */
public record CreateOpts(Any spec, List<Mount> rootfs, TaskIO io, String checkpoint, String runtime,
                         Any runtimeOptions, Any taskOptions) {
    public CreateOpts {
        rootfs = rootfs == null ? List.of() : List.copyOf(rootfs);
        checkpoint = checkpoint == null ? "" : checkpoint;
    }

    /** The options the shim gets: the task's if given, else the container's runtime options (may be null). */
    public Any shimOptions() {
        return taskOptions != null ? taskOptions : runtimeOptions;
    }
}
