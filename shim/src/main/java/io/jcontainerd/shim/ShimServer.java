package io.jcontainerd.shim;

import io.jcontainerd.config.GoDuration;
import io.jcontainerd.sys.Libc;
import io.jcontainerd.shim.proc.Processes;
import io.jcontainerd.shim.sys.Posix;
import io.jcontainerd.shim.task.EventPublisher;
import io.jcontainerd.shim.task.TaskService;
import io.jcontainerd.shim.util.Log;
import io.jcontainerd.sys.ErrnoException;
import io.jcontainerd.ttrpc.TtrpcServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;

/**
 * The long-lived shim: child subreaper, log to the bundle's {@code log} FIFO, the Task service on the
 * socket {@code start} (or the daemon) chose, events to {@code TTRPC_ADDRESS}. Exits after a Shutdown that
 * finds no containers left, or with {@code -idle-timeout D} once it has had none for D, removing its socket.
 */
final class ShimServer {
    private final CompletableFuture<Void> ready;
    private final EventPublisher events;
    private final TtrpcServer server;
    private final CountDownLatch stop = new CountDownLatch(1);

    private ShimServer(Flags f, Path socket, String ttrpcAddress) throws Exception {
        // linking the native calls takes a while on a cold JVM: done beside the server's start-up; calls wait
        ready = new CompletableFuture<>();
        Thread.ofPlatform().name("bootstrap").start(() -> {
            try {
                Posix.setChildSubreaper();
                Processes.get(); // the reaper runs before anything can be spawned or reparented
                openLog(f);
                ready.complete(null);
                // link the rest of the native calls a first Create needs while nobody waits yet
                Processes.prewarm();
                prewarmMounts();
            } catch (Throwable t) {
                ready.completeExceptionally(t);
            }
        });
        events = new EventPublisher(ttrpcAddress);
        Duration idle = f.idleTimeout().isEmpty() ? Duration.ZERO : GoDuration.parse(f.idleTimeout());
        TaskService tasks = new TaskService(events, f.namespace(), stop::countDown, ready, idle);
        server = new TtrpcServer();
        server.register(TaskService.SERVICE, tasks.methods());
        server.start(socket);
        Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
    }

    /** Serves on {@code socket}, publishing events to {@code ttrpcAddress}. */
    static ShimServer start(Flags f, Path socket, String ttrpcAddress) throws Exception {
        return new ShimServer(f, socket, ttrpcAddress);
    }

    static void run(Flags f) throws Exception {
        Path socket = !f.socket().isEmpty() ? Path.of(f.socket())
                : ShimStart.socketPath(f.address(), f.namespace(), ShimStart.grouping(Path.of(System.getProperty("user.dir")), f.id()));
        ShimServer s = start(f, socket, System.getenv("TTRPC_ADDRESS"));
        Log.debug("serving " + socket);
        s.awaitShutdown();
        Log.debug("shutdown");
        System.exit(0);
    }

    /** Waits for a Shutdown that finds no containers, lets the events drain, and removes the socket. */
    void awaitShutdown() throws InterruptedException {
        ready.join();
        stop.await();
        // the Shutdown reply goes out while events drain; then the socket goes
        events.flush(Duration.ofSeconds(5));
        server.close();
        events.close();
    }

    /** umount2 of a path that does not exist: fails at once, but links mount(2)'s family of calls. */
    private static void prewarmMounts() {
        try {
            Libc.umount2("/run/jcontainerd/.prewarm-" + ProcessHandle.current().pid(), 0);
        } catch (ErrnoException expected) {
            // ENOENT
        }
    }

    /** The daemon reads our log from the FIFO {@code log} in the bundle, when it made one. */
    private static void openLog(Flags f) {
        int fd = 2;
        try {
            fd = Posix.open("log", Posix.O_WRONLY | Posix.O_NONBLOCK, 0);
        } catch (ErrnoException e) {
            // no FIFO or nobody reading it: stderr (/dev/null when started by start)
        }
        Log.configure(fd, f.debug(), "namespace=" + f.namespace() + " pid=" + ProcessHandle.current().pid());
    }
}
