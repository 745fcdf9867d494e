package io.jcontainerd.shim.proc;

import io.jcontainerd.shim.sys.Posix;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Runs in a JVM of its own (the reaper takes every child of its process, so it cannot share the test
 * JVM, whose java.lang.Process children it would reap): prints one line per check.
 */
public final class ReaperCheck {
    public static void main(String[] args) throws Exception {
        Posix.setChildSubreaper();
        Processes p = Processes.get();
        Path dir = Files.createTempDirectory("reaper");
        try {
            System.out.println("exit " + sh(p, "exit 3"));
            System.out.println("killed " + sh(p, "kill -9 $$"));

            // an orphan reparented to us, claimed while it still runs
            Path f1 = dir.resolve("pid1");
            sh(p, "sleep 0.3 & echo $! > " + f1);
            int orphan = Integer.parseInt(Files.readString(f1).strip());
            System.out.println("orphan " + p.claim(orphan).get(10, TimeUnit.SECONDS).status());

            // an orphan that exited before anyone claimed it. It outlives its parent shell: a background
            // job that exits first may be reaped by that shell itself and never reach us (seen here about
            // once in 10-300 runs). Claimed once it is gone from /proc, i.e. reaped by our reaper, which
            // hands the exit over right after.
            Path f2 = dir.resolve("pid2");
            sh(p, "sh -c 'sleep 0.1; exit 7' & echo $! > " + f2);
            int early = Integer.parseInt(Files.readString(f2).strip());
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (Files.exists(Path.of("/proc/" + early)) && System.nanoTime() < deadline) Thread.sleep(10);
            Thread.sleep(100);
            var claimed = p.claim(early);
            System.out.println("early " + claimed.isDone() + " " + claimed.get(1, TimeUnit.SECONDS).status());

            // many spawns at once, each exit to its own waiter
            try (var ex = Executors.newVirtualThreadPerTaskExecutor()) {
                List<Future<Integer>> results = new ArrayList<>();
                for (int i = 0; i < 50; i++) {
                    int code = i % 5;
                    results.add(ex.submit(() -> sh(p, "exit " + code)));
                }
                boolean ok = true;
                for (int i = 0; i < 50; i++) ok &= results.get(i).get() == i % 5;
                System.out.println("concurrent " + ok);
            }

            // stdio mapping, cwd, environment, and a signal mask/dispositions reset to defaults
            Path out = dir.resolve("out");
            int fd = Posix.open(out.toString(), Posix.O_WRONLY | Posix.O_CREAT, 0644);
            var child = p.spawn(new Processes.Command(List.of("sh", "-c",
                    "echo \"$PWD $FOO\"; grep -E '^(SigIgn|SigBlk)' /proc/self/status; ls -1 /proc/self/fd | wc -l"),
                    Map.of("FOO", "bar", "PATH", System.getenv("PATH")), dir.toString(), new int[] {-1, fd, fd}, true));
            Posix.close(fd);
            child.exit().get(10, TimeUnit.SECONDS);
            System.out.println("io " + Files.readString(out).replace('\n', '|'));
        } finally {
            try (var walk = Files.walk(dir)) {
                for (Path q : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(q);
            }
        }
        System.exit(0);
    }

    private static int sh(Processes p, String script) throws Exception {
        return p.spawn(new Processes.Command(List.of("sh", "-c", script), null, null, null, false)).exit().get(10, TimeUnit.SECONDS).status();
    }
}
