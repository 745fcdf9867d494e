package io.jcontainerd.cmd;

import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;

/**
 * Start-up work that every boot does anyway, begun on a second thread at the top of the boot so that
 * it overlaps the main thread's signals, config, directories and first plugins: loading SQLite's native
 * library, the driver's per-connection date format (whose first use loads the JDK's calendar and locale
 * data) and Netty's epoll transport. It is class initialization only: whichever thread gets to a class
 * first initializes it and the other waits for it, so outcomes and logs are those of a serial boot.
 * Steps are in the order the boot needs them. Failures are ignored here; the boot itself meets and
 * reports them. (No libc downcalls any more: nothing on the boot path links FFM.)
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
        step(org.sqlite.SQLiteJDBCLoader::initialize);  // the first snapshotter store opens SQLite
        step(org.sqlite.SQLiteConfig::new);             // every connection's config builds a date format: the
                                                        // first one sets up the JDK's locale data (~20 ms)
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
