package io.jcontainerd.shim.task;

import io.jcontainerd.shim.io.Stdio;
import java.util.Map;

/** A process added to a running container with Exec; runs once Started. */
final class ExecProcess extends Proc {
    final InitProcess parent;
    /** The OCI process spec, with "terminal" set from the request. */
    final Map<String, Object> spec;

    ExecProcess(String execId, Stdio stdio, InitProcess parent, Map<String, Object> spec) {
        super(execId, stdio);
        this.parent = parent;
        this.spec = spec;
    }

    /** A paused (or pausing) container makes its exec processes report that too. */
    @Override
    String status() {
        String p = parent.status();
        if (p.equals("paused") || p.equals("pausing")) return p;
        return super.status();
    }
}
