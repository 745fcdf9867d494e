package io.jcontainerd.shim.task;

import io.jcontainerd.shim.io.Stdio;

/** The container's init process; its state is the container's. */
final class InitProcess extends Proc {
    /** A checkpoint image to restore from at Start instead of runc create/start (empty: none). */
    final String checkpoint;
    final String parentCheckpoint;
    /** Set while runc pause runs: State reports "pausing". */
    volatile boolean pausing;

    InitProcess(String id, Stdio stdio, String checkpoint, String parentCheckpoint) {
        super(id, stdio);
        this.checkpoint = checkpoint == null ? "" : checkpoint;
        this.parentCheckpoint = parentCheckpoint == null ? "" : parentCheckpoint;
    }

    @Override
    String status() {
        return pausing ? "pausing" : super.status();
    }
}
