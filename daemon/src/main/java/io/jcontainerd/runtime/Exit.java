package io.jcontainerd.runtime;

import com.google.protobuf.Timestamp;

/** How a process ended: containerd's runtime.Exit (pid may be 0 when unknown). */
public record Exit(int pid, int status, Timestamp exitedAt) {}
