package io.jcontainerd.runtime.restart;

/** The container labels the restart monitor reads and writes: containerd's keys. */
public final class RestartLabels {
    private RestartLabels() {}

    /** The task status to keep: {@code running} or {@code stopped}. */
    public static final String STATUS = "containerd.io/restart.status";
    /** Where a restarted task's stdout and stderr go (a log URI: {@code file://}, {@code binary://}, ...). */
    public static final String LOG_URI = "containerd.io/restart.loguri";
    /** Deprecated (containerd 1.5) plain log file path; {@link #LOG_URI} wins when both are set. */
    public static final String LOG_PATH = "containerd.io/restart.logpath";
    /** {@code always} (also empty), {@code on-failure[:N]}, {@code unless-stopped} or {@code no}. */
    public static final String POLICY = "containerd.io/restart.policy";
    /** How many times the monitor restarted the container; written by the monitor. */
    public static final String COUNT = "containerd.io/restart.count";
    /** Set to true by a client that stopped the container on purpose (read by {@code unless-stopped}). */
    public static final String EXPLICITLY_STOPPED = "containerd.io/restart.explicitly-stopped";
}
