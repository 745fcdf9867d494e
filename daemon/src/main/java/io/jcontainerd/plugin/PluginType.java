package io.jcontainerd.plugin;

/** Plugin type strings, exactly as containerd names them (clients filter introspection on these). */
public final class PluginType {
    private PluginType() {}

    public static final String INTERNAL = "io.containerd.internal.v1";
    public static final String RUNTIME = "io.containerd.runtime.v1";
    public static final String RUNTIME_V2 = "io.containerd.runtime.v2";
    public static final String SERVICE = "io.containerd.service.v1";
    public static final String GRPC = "io.containerd.grpc.v1";
    public static final String TTRPC = "io.containerd.ttrpc.v1";
    public static final String SNAPSHOT = "io.containerd.snapshotter.v1";
    public static final String TASK_MONITOR = "io.containerd.monitor.v1";
    public static final String DIFF = "io.containerd.differ.v1";
    public static final String METADATA = "io.containerd.metadata.v1";
    public static final String CONTENT = "io.containerd.content.v1";
    public static final String GC = "io.containerd.gc.v1";
    public static final String EVENT = "io.containerd.event.v1";
    public static final String LEASE = "io.containerd.lease.v1";
    public static final String STREAMING = "io.containerd.streaming.v1";
    public static final String TRANSFER = "io.containerd.transfer.v1";
    public static final String SANDBOX_STORE = "io.containerd.sandbox.store.v1";
    public static final String SANDBOX_CONTROLLER = "io.containerd.sandbox.controller.v1";
    public static final String WARNING = "io.containerd.warning.v1";
    public static final String NRI_API = "io.containerd.nri.v1";
    public static final String CRI_IMAGE = "io.containerd.cri.v1";
}
