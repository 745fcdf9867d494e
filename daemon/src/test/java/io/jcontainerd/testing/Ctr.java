package io.jcontainerd.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the real {@code ctr} (Debian's containerd package) against a daemon. */
public final class Ctr {
    public static final String BINARY = "/usr/bin/ctr";

    private Ctr() {}

    public record Result(int exitCode, String stdout, String stderr) {
        public Result assertOk() {
            if (exitCode != 0) throw new AssertionError("ctr failed (" + exitCode + "): " + stderr + stdout);
            return this;
        }
    }

    public static Result run(String address, String... args) {
        List<String> cmd = new ArrayList<>(List.of(BINARY, "--address", address));
        cmd.addAll(List.of(args));
        return exec(cmd, 60);
    }

    /** {@code ctr -n namespace args...} against the daemon at {@code address}. */
    public static Result runIn(String address, String namespace, String... args) {
        List<String> cmd = new ArrayList<>(List.of(BINARY, "--address", address, "-n", namespace));
        cmd.addAll(List.of(args));
        return exec(cmd, 60);
    }

    /** Starts {@code ctr} without waiting (for long-running commands such as {@code ctr events}). */
    public static Process start(String address, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(BINARY, "--address", address));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).start();
    }

    static Result exec(List<String> cmd, int timeoutSeconds) {
        try {
            Process p = new ProcessBuilder(cmd).start();
            byte[][] streams = new byte[2][];
            Thread o = Thread.ofVirtual().start(() -> streams[0] = readAll(p.getInputStream()));
            Thread e = Thread.ofVirtual().start(() -> streams[1] = readAll(p.getErrorStream()));
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
                throw new AssertionError("timed out: " + cmd);
            }
            o.join();
            e.join();
            return new Result(p.exitValue(), new String(streams[0], StandardCharsets.UTF_8), new String(streams[1], StandardCharsets.UTF_8));
        } catch (IOException | InterruptedException ex) {
            throw new AssertionError("running " + cmd + ": " + ex, ex);
        }
    }

    private static byte[] readAll(java.io.InputStream in) {
        try (in) {
            return in.readAllBytes();
        } catch (IOException ex) {
            return new byte[0];
        }
    }
}
