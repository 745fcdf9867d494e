package io.jcontainerd.shim.runc;

import io.jcontainerd.shim.proc.Exit;
import io.jcontainerd.shim.proc.Processes;
import io.jcontainerd.shim.sys.Posix;
import io.jcontainerd.shim.util.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;

/**
 * The runc command line, as containerd's shim drives it: global flags {@code --root <root>/<namespace>
 * --log <bundle>/log.json --log-format json}, one subcommand per operation. Every invocation is spawned and
 * reaped through {@link Processes}. Output of commands that do not get the container's stdio is captured in
 * a memfd (no pipe to drain, so no reader thread and no deadlock on large output).
 *
 * @param binary   the runc executable (looked up on PATH)
 * @param root     runc's state root for this namespace
 * @param bundle   the bundle; runc's JSON log is {@code log.json} inside it
 * @param criu     a criu binary to use instead of runc's default, or empty
 * @param systemdCgroup whether cgroup paths are systemd slices
 */
public record Runc(String binary, String root, Path bundle, String criu, boolean systemdCgroup) {
    public static final String DEFAULT_ROOT = "/run/containerd/runc";

    /** containerd's defaults: binary "runc", root {@value #DEFAULT_ROOT}, namespaced. */
    public static Runc of(String binary, String root, String namespace, Path bundle, String criu, boolean systemd) {
        String b = binary == null || binary.isEmpty() ? "runc" : binary;
        String r = root == null || root.isEmpty() ? DEFAULT_ROOT : root;
        return new Runc(b, Path.of(r, namespace).toString(), bundle, criu == null ? "" : criu, systemd);
    }

    /** A failed runc invocation; the message is what containerd's shim would report. */
    public static final class RuncException extends IOException {
        private final String output;

        RuncException(String message, String output) {
            super(message);
            this.output = output;
        }

        /** runc's captured stdout and stderr (empty when it wrote to the container's stdio). */
        public String output() {
            return output;
        }
    }

    /** The full command line for a runc subcommand: binary, global flags, then {@code args}. */
    public List<String> command(String... args) {
        List<String> c = new ArrayList<>(List.of(binary, "--root", root, "--log", bundle.resolve("log.json").toString(), "--log-format", "json"));
        if (systemdCgroup) c.add("--systemd-cgroup");
        if (!criu.isEmpty()) c.addAll(List.of("--criu", criu));
        c.addAll(List.of(args));
        return c;
    }

    /** The result of one invocation: exit status and captured output. */
    public record Result(int status, String output) {}

    /** Runs runc with {@code fds} as its stdio (null: capture stdout and stderr). */
    public Result run(List<String> argv, int[] fds, Map<String, String> env) throws IOException {
        int capture = -1;
        try {
            int[] stdio = fds;
            if (stdio == null) {
                capture = Posix.memfd("runc-output");
                stdio = new int[] {-1, capture, capture};
            }
            Processes.Child child = Processes.get().spawn(new Processes.Command(argv, env, null, stdio, false));
            Exit exit;
            try {
                exit = child.exit().get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted waiting for runc", e);
            } catch (ExecutionException e) {
                throw new IOException(e.getCause());
            }
            String out = capture >= 0 ? new String(Posix.readAll(capture), StandardCharsets.UTF_8) : "";
            return new Result(exit.status(), out);
        } finally {
            Posix.close(capture);
        }
    }

    /** Runs and fails with "exit status N: output" as go-runc does. */
    private String check(List<String> argv) throws IOException {
        Result r = run(argv, null, null);
        if (r.status() != 0) throw new RuncException(statusText(r.status()) + ": " + r.output().strip(), r.output());
        return r.output();
    }

    private static String statusText(int status) {
        return status > 128 ? "signal: " + (status - 128) : "exit status " + status;
    }

    /**
     * {@code runc create}. With {@code fds} the container gets them as stdio and errors come from runc's log
     * (containerd: "OCI runtime create failed: ..."); with a console socket runc's output is captured.
     */
    public void create(String id, Path pidFile, String consoleSocket, boolean noPivot, boolean noNewKeyring, int[] fds)
            throws IOException {
        List<String> a = command("create", "--bundle", bundle.toString(), "--pid-file", pidFile.toString());
        if (consoleSocket != null) a.addAll(List.of("--console-socket", consoleSocket));
        if (noPivot) a.add("--no-pivot");
        if (noNewKeyring) a.add("--no-new-keyring");
        a.add(id);
        runWithRuntimeError(a, fds, "OCI runtime create failed");
    }

    /** {@code runc restore --detach} of a checkpoint image into a new container. */
    public void restore(String id, Path pidFile, String imagePath, String workPath, String parentPath, String consoleSocket,
                        boolean noPivot, int[] fds) throws IOException {
        List<String> a = command("restore", "--detach", "--work-path", workPath, "--image-path", imagePath,
                "--pid-file", pidFile.toString(), "--bundle", bundle.toString(), "--no-subreaper");
        if (parentPath != null && !parentPath.isEmpty()) a.addAll(List.of("--parent-path", parentPath));
        if (consoleSocket != null) a.addAll(List.of("--console-socket", consoleSocket));
        if (noPivot) a.add("--no-pivot");
        a.add(id);
        runWithRuntimeError(a, fds, "OCI runtime restore failed");
    }

    public void start(String id) throws IOException {
        runWithRuntimeError(command("start", id), null, "OCI runtime start failed");
    }

    /** {@code runc exec --detach} of the process spec in {@code processJson}. */
    public void exec(String id, Path processJson, Path pidFile, String consoleSocket, int[] fds) throws IOException {
        List<String> a = command("exec", "--detach", "--pid-file", pidFile.toString(), "--process", processJson.toString());
        if (consoleSocket != null) a.addAll(List.of("--console-socket", consoleSocket));
        a.add(id);
        runWithRuntimeError(a, fds, "OCI runtime exec failed");
    }

    public void kill(String id, int signal, boolean all) throws IOException {
        List<String> a = command("kill");
        if (all) a.add("--all");
        a.add(id);
        a.add(Integer.toString(signal));
        check(a);
    }

    public void delete(String id, boolean force) throws IOException {
        List<String> a = command("delete");
        if (force) a.add("--force");
        a.add(id);
        check(a);
    }

    public void pause(String id) throws IOException {
        runWithRuntimeError(command("pause", id), null, "OCI runtime pause failed");
    }

    public void resume(String id) throws IOException {
        runWithRuntimeError(command("resume", id), null, "OCI runtime resume failed");
    }

    /** The pids in the container's cgroup, from {@code runc ps --format json}. */
    public List<Integer> ps(String id) throws IOException {
        String out = check(command("ps", "--format", "json", id)).strip();
        List<Integer> pids = new ArrayList<>();
        if (out.isEmpty() || out.equals("null")) return pids;
        if (Json.parse(out) instanceof List<?> l) {
            for (Object o : l) pids.add((int) Json.asLong(o));
        }
        return pids;
    }

    /** {@code runc update --resources FILE}: the LinuxResources JSON in {@code resourcesJson}. */
    public void update(String id, Path resourcesJson) throws IOException {
        check(command("update", "--resources", resourcesJson.toString(), id));
    }

    /** One {@code runc events --stats} sample: runc's stats JSON object ({@code {"type":"stats","data":...}}). */
    public String stats(String id) throws IOException {
        return check(command("events", "--stats", id));
    }

    /** {@code runc checkpoint} with the given extra flags (e.g. --leave-running). */
    public void checkpoint(String id, String imagePath, String workPath, List<String> flags) throws IOException {
        List<String> a = command("checkpoint", "--image-path", imagePath, "--work-path", workPath);
        a.addAll(flags);
        a.add(id);
        check(a);
    }

    private void runWithRuntimeError(List<String> argv, int[] fds, String what) throws IOException {
        Result r = run(argv, fds, null);
        if (r.status() == 0) return;
        String msg = lastRuntimeError();
        if (msg == null || msg.isEmpty()) msg = statusText(r.status()) + (r.output().isBlank() ? "" : ": " + r.output().strip());
        throw new RuncException(what + ": " + msg, r.output());
    }

    /** The message of the last "error" entry in runc's JSON log, or null. */
    public String lastRuntimeError() {
        Path log = bundle.resolve("log.json");
        try {
            String last = null;
            for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
                if (line.isBlank()) continue;
                try {
                    Map<String, Object> m = Json.parseObject(line);
                    if ("error".equals(m.get("level")) && m.get("msg") instanceof String s) last = s.strip();
                } catch (IllegalArgumentException ignored) {
                    // a torn line: skip it
                }
            }
            return last;
        } catch (IOException e) {
            return null;
        }
    }
}
