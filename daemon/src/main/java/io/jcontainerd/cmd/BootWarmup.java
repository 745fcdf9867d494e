package io.jcontainerd.cmd;

import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.jcontainerd.sys.Libc;

/**
 * Start-up work that every boot does anyway, begun on a second thread at the top of the boot so that
 * it overlaps the main thread's signals, config, directories and first plugins: linking the libc
 * downcalls (FFM generates a stub class per call shape, ~5 ms each: the overlayfs probe mounts, the
 * databases stat and fdatasync their WAL), loading SQLite's native library, and loading Netty's epoll
 * transport. It is class initialization and harmless syscalls only: whichever thread gets to a class
 * first initializes it and the other waits for it, so outcomes and logs are those of a serial boot.
 * Steps are in the order the boot needs them. Failures are ignored here; the boot itself meets and
 * reports them.
 */
final class BootWarmup {
    private BootWarmup() {}

    @FunctionalInterface
    private interface Step {
        void run() throws Throwable;
    }

    static void start() {
        Thread t = new Thread(BootWarmup::run, "boot-warmup");
        t.setDaemon(true);
        t.start();
    }

    private static void run() {
        step(() -> Libc.statfsType("/"));               // mount(2), umount2(2), statfs(2): the overlayfs probe
        step(org.sqlite.SQLiteJDBCLoader::initialize);  // the first snapshotter store opens SQLite
        step(() -> Libc.lstat("/"));                    // statx(2), open(2), fdatasync(2): WAL syncs
        step(Epoll::ensureAvailability);                // the gRPC listener's transport
    }

    private static void step(Step s) {
        try {
            s.run();
        } catch (Throwable ignored) {
            // the boot meets the same failure where it matters and reports it there
        }
    }
}
