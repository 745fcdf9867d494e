package io.jcontainerd.shim.proc;

import io.jcontainerd.shim.sys.Posix;
import io.jcontainerd.sys.ErrnoException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.time.Instant;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * The one owner of child processes in the shim: spawns with posix_spawn and reaps everything with a
 * single {@code waitid(P_ALL)} thread (see the package documentation for why).
 */
public final class Processes {
    /** How long an exit nobody waited for is kept for a later {@link #claim}. */
    private static final long UNCLAIMED_TTL_NANOS = 30_000_000_000L;

    private static final class Holder {
        static final Processes INSTANCE = new Processes();
    }

    /** The process-wide instance; the reaper thread starts with it. */
    public static Processes get() {
        return Holder.INSTANCE;
    }

    private final Object lock = new Object();
    private final Map<Integer, CompletableFuture<Exit>> waiters = new HashMap<>();
    private final LinkedHashMap<Integer, Unclaimed> unclaimed = new LinkedHashMap<>();
    private long spawnGeneration;

    private record Unclaimed(Exit exit, long reapedNanos) {}

    private Processes() {
        Thread t = Thread.ofPlatform().name("reaper").daemon().stackSize(256 * 1024).unstarted(this::reapLoop);
        t.start();
    }

    /**
     * What to run: {@code argv[0]} is looked up on PATH; {@code env} replaces the environment (null:
     * inherit); {@code fds[i]} becomes the child's descriptor {@code i} (-1: /dev/null), every other
     * descriptor is closed; {@code cwd} may be null; {@code newSession} makes the child a session leader.
     */
    public record Command(List<String> argv, Map<String, String> env, String cwd, int[] fds, boolean newSession) {
        public Command {
            argv = List.copyOf(argv);
            fds = fds == null ? new int[] {-1, -1, -1} : fds.clone();
        }
    }

    /** A started child and its exit, completed by the reaper. Use async continuations or join it. */
    public record Child(int pid, CompletableFuture<Exit> exit) {}

    /** Links posix_spawn and friends ahead of the first spawn. */
    public static void prewarm() {
        if (Spawn.SPAWNP == null) throw new IllegalStateException("posix_spawnp not found");
    }

    public Child spawn(Command c) throws IOException {
        return Spawn.run(this, c);
    }

    /**
     * The exit of a process this shim did not spawn itself but will reap (reparented container and exec
     * processes): completed at once if it already exited, otherwise when the reaper sees it.
     */
    public CompletableFuture<Exit> claim(int pid) {
        synchronized (lock) {
            Unclaimed u = unclaimed.remove(pid);
            if (u != null) return CompletableFuture.completedFuture(u.exit());
            return waiters.computeIfAbsent(pid, p -> new CompletableFuture<>());
        }
    }

    /** Called by {@link Spawn} with the lock held around posix_spawn. */
    Object lock() {
        return lock;
    }

    /** Registers a freshly spawned pid; the caller holds {@link #lock}. */
    CompletableFuture<Exit> registerSpawnedLocked(int pid) {
        spawnGeneration++;
        lock.notifyAll();
        // a stale unclaimed entry for a recycled pid must not be mistaken for this child's exit
        unclaimed.remove(pid);
        return waiters.computeIfAbsent(pid, p -> new CompletableFuture<>());
    }

    private void reapLoop() {
        Arena arena = Arena.ofConfined();
        MemorySegment info = arena.allocate(128, 8);
        MemorySegment state = Posix.newErrnoState(arena);
        while (true) {
            long seen;
            synchronized (lock) {
                seen = spawnGeneration;
            }
            Posix.Reaped r;
            try {
                r = Posix.waitAny(arena, info, state);
            } catch (ErrnoException e) {
                System.err.println("reaper: " + e.getMessage());
                sleep(100);
                continue;
            }
            if (r == null) {
                // no children at all: nothing can exit until the next spawn
                synchronized (lock) {
                    while (spawnGeneration == seen) {
                        try {
                            lock.wait();
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                }
                continue;
            }
            dispatch(new Exit(r.pid(), r.status(), Instant.now()));
        }
    }

    private void dispatch(Exit e) {
        CompletableFuture<Exit> f;
        synchronized (lock) {
            f = waiters.remove(e.pid());
            if (f == null) {
                long now = System.nanoTime();
                for (Iterator<Unclaimed> it = unclaimed.values().iterator(); it.hasNext(); ) {
                    if (now - it.next().reapedNanos() > UNCLAIMED_TTL_NANOS) it.remove();
                    else break; // insertion order: the rest are younger
                }
                unclaimed.put(e.pid(), new Unclaimed(e, now));
            }
        }
        if (f != null) f.complete(e);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException ignored) {
            Thread.currentThread().interrupt();
        }
    }

    /** posix_spawn through FFM. */
    static final class Spawn {
        private static final FunctionDescriptor FA1 = FunctionDescriptor.of(JAVA_INT, ADDRESS);
        static final MethodHandle SPAWNP = plain("posix_spawnp",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
        static final MethodHandle FA_INIT = plain("posix_spawn_file_actions_init", FA1);
        static final MethodHandle FA_DESTROY = plain("posix_spawn_file_actions_destroy", FA1);
        static final MethodHandle FA_DUP2 = plain("posix_spawn_file_actions_adddup2",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        static final MethodHandle FA_CHDIR = plain("posix_spawn_file_actions_addchdir_np",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        static final MethodHandle FA_CLOSEFROM = plain("posix_spawn_file_actions_addclosefrom_np",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        static final MethodHandle ATTR_INIT = plain("posix_spawnattr_init", FA1);
        static final MethodHandle ATTR_DESTROY = plain("posix_spawnattr_destroy", FA1);
        // declared with an int: shares its stub with addclosefrom (a short travels in the same register)
        static final MethodHandle ATTR_FLAGS = plain("posix_spawnattr_setflags", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        static final MethodHandle ATTR_SIGMASK = plain("posix_spawnattr_setsigmask", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        static final MethodHandle ATTR_SIGDEF = plain("posix_spawnattr_setsigdefault", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        static final MethodHandle SIGEMPTY = plain("sigemptyset", FA1);
        static final MethodHandle SIGFILL = plain("sigfillset", FA1);

        static final int SETSIGDEF = 0x04;
        static final int SETSIGMASK = 0x08;
        static final int SETSID = 0x80;
        private static final Object DEV_NULL_LOCK = new Object();
        private static int devNull = -1;

        /** One /dev/null kept open to hand to children (an open per spawn would cost another native stub). */
        static int devNull() throws IOException {
            synchronized (DEV_NULL_LOCK) {
                if (devNull < 0) devNull = Posix.open("/dev/null", Posix.O_RDWR, 0);
                return devNull;
            }
        }

        private static MethodHandle plain(String name, FunctionDescriptor fd) {
            var linker = java.lang.foreign.Linker.nativeLinker();
            return linker.defaultLookup().find(name).map(a -> linker.downcallHandle(a, fd)).orElse(null);
        }

        static Child run(Processes owner, Command c) throws IOException {
            int[] fds = c.fds();
            int[] high = new int[fds.length + 1];
            java.util.Arrays.fill(high, -1);
            try (Arena arena = Arena.ofConfined()) {
                // move every source above the highest target, so no dup2 clobbers a later source
                int floor = Math.max(fds.length, 10);
                for (int i = 0; i < fds.length; i++) {
                    if (fds[i] >= 0) high[i] = Posix.dupAbove(fds[i], floor);
                }
                high[fds.length] = Posix.dupAbove(devNull(), floor);
                MemorySegment fa = arena.allocate(256, 16);
                MemorySegment attr = arena.allocate(512, 16);
                MemorySegment mask = arena.allocate(128, 8);
                MemorySegment def = arena.allocate(128, 8);
                check("posix_spawn_file_actions_init", (int) FA_INIT.invokeExact(fa));
                check("posix_spawnattr_init", (int) ATTR_INIT.invokeExact(attr));
                try {
                    int nullFd = high[fds.length];
                    for (int i = 0; i < fds.length; i++) {
                        check("adddup2", (int) FA_DUP2.invokeExact(fa, high[i] >= 0 ? high[i] : nullFd, i));
                    }
                    if (FA_CLOSEFROM != null) check("addclosefrom", (int) FA_CLOSEFROM.invokeExact(fa, fds.length));
                    if (c.cwd() != null) check("addchdir", (int) FA_CHDIR.invokeExact(fa, arena.allocateFrom(c.cwd())));
                    // the JVM's signal dispositions and mask must not leak into runc and containers
                    int ignored = (int) SIGEMPTY.invokeExact(mask);
                    ignored = (int) SIGFILL.invokeExact(def);
                    check("setsigmask", (int) ATTR_SIGMASK.invokeExact(attr, mask));
                    check("setsigdefault", (int) ATTR_SIGDEF.invokeExact(attr, def));
                    int flags = SETSIGDEF | SETSIGMASK | (c.newSession() ? SETSID : 0);
                    check("setflags", (int) ATTR_FLAGS.invokeExact(attr, flags));

                    MemorySegment argv = cStrings(arena, c.argv());
                    Map<String, String> env = c.env() == null ? System.getenv() : c.env();
                    List<String> envList = env.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList();
                    MemorySegment envp = cStrings(arena, envList);
                    MemorySegment pidOut = arena.allocate(JAVA_INT);
                    MemorySegment file = arena.allocateFrom(c.argv().getFirst());
                    synchronized (owner.lock()) {
                        int rc = (int) SPAWNP.invokeExact(pidOut, file, fa, attr, argv, envp);
                        if (rc != 0) throw new ErrnoException("posix_spawnp " + c.argv().getFirst(), rc);
                        int pid = pidOut.get(JAVA_INT, 0);
                        return new Child(pid, owner.registerSpawnedLocked(pid));
                    }
                } finally {
                    int ignored = (int) FA_DESTROY.invokeExact(fa);
                    ignored = (int) ATTR_DESTROY.invokeExact(attr);
                }
            } catch (IOException e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException("posix_spawn: " + t, t);
            } finally {
                for (int fd : high) Posix.close(fd);
            }
        }

        private static void check(String what, int rc) throws ErrnoException {
            if (rc != 0) throw new ErrnoException(what, rc);
        }

        private static MemorySegment cStrings(Arena arena, List<String> strings) {
            MemorySegment arr = arena.allocate(ADDRESS, strings.size() + 1L);
            for (int i = 0; i < strings.size(); i++) arr.setAtIndex(ADDRESS, i, arena.allocateFrom(strings.get(i)));
            arr.setAtIndex(ADDRESS, strings.size(), MemorySegment.NULL);
            return arr;
        }
    }
}
