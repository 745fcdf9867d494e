package io.jcontainerd.shim.proc;

import java.time.Instant;

/** How a process ended: its pid, the shell-style status (exit code, or 128 + signal) and when it was reaped. */
public record Exit(int pid, int status, Instant at) {}
