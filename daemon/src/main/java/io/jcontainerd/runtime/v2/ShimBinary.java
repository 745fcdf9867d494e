package io.jcontainerd.runtime.v2;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import io.jcontainerd.api.task.v2.DeleteResponse;
import io.jcontainerd.config.GoDuration;
import io.jcontainerd.runtime.Exit;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The two one-shot invocations of a runtime v2 shim binary, with containerd's arguments and environment:
 * {@code start} (prints the address of a long-lived shim serving the task) and {@code delete} (cleans up
 * after a dead shim and prints a {@code DeleteResponse}).
 *
 * @param runtime the shim executable
 * @param address the daemon's gRPC socket, as shims are told it
 * @param ttrpcAddress where shims forward events ({@code TTRPC_ADDRESS})
 * @param publishBinary the executable shims may run as {@code <it> --address A publish --topic T --namespace N}
 * @param debug pass {@code -debug} (the daemon logs at debug or trace)
 * @param schedCore set {@code SCHED_CORE=1} so the shim creates a core-scheduling domain
 */
record ShimBinary(Path runtime, String address, String ttrpcAddress, String publishBinary, boolean debug, boolean schedCore,
                  Duration cleanupTimeout) {

    /** How long a shim's start may take before it is killed (its delete has {@code cleanupTimeout}). */
    static final Duration START_TIMEOUT = Duration.ofSeconds(30);

    /** {@code shim -namespace NS -address A -publish-binary B <args>} in the bundle, with the shim environment. */
    ProcessBuilder command(Bundle bundle, List<String> args) {
        List<String> cmd = new ArrayList<>(List.of(runtime.toString(),
                "-namespace", bundle.namespace(), "-address", address, "-publish-binary", publishBinary));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(bundle.path().toFile());
        Map<String, String> env = pb.environment();
        env.put("GOMAXPROCS", "2");
        env.put("TTRPC_ADDRESS", ttrpcAddress);
        env.put("GRPC_ADDRESS", address);
        env.put("NAMESPACE", bundle.namespace());
        env.put("MAX_SHIM_VERSION", "2");
        if (schedCore) env.put("SCHED_CORE", "1");
        return pb;
    }

    /**
     * Runs {@code shim ... -id ID [-debug] start} in the bundle with the options Any (marshalled) on stdin,
     * and returns the shim's address (bare, or the {@code address} of a JSON bootstrap reply).
     */
    String start(Bundle bundle, Any options) throws IOException {
        List<String> args = new ArrayList<>(List.of("-id", bundle.id()));
        if (debug) args.add("-debug");
        args.add("start");
        ProcessBuilder pb = command(bundle, args);
        if (options == null) pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        Process p = pb.start();
        // the address is read from stdout alone, so a runtime's warnings on stderr (a JVM's, say) cannot
        // corrupt it; stderr still explains a failed start
        byte[][] err = new byte[1][];
        Thread errReader = Thread.ofVirtual().start(() -> err[0] = readQuietly(p.getErrorStream()));
        if (options != null) {
            try (OutputStream in = p.getOutputStream()) {
                options.writeTo(in);
            } catch (IOException e) {
                // the shim does not read its options: its output says what went wrong
            }
        }
        byte[] out = readAll(p, p.getInputStream(), START_TIMEOUT);
        int code = waitFor(p, START_TIMEOUT);
        try {
            errReader.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        String text = new String(out, StandardCharsets.UTF_8).trim();
        String stderr = err[0] == null ? "" : new String(err[0], StandardCharsets.UTF_8).trim();
        if (code != 0) throw new IOException((text + " " + stderr).trim() + ": exit status " + code);
        return parseAddress(text);
    }

    /**
     * Runs {@code shim ... -id ID -bundle PATH delete} and returns the exit it reports. The bundle itself
     * is left for the caller.
     */
    Exit delete(Bundle bundle) throws IOException {
        ProcessBuilder pb = command(bundle, List.of("-id", bundle.id(), "-bundle", bundle.path().toString(), "delete"))
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        Process p = pb.start();
        byte[][] err = new byte[1][];
        Thread errReader = Thread.ofVirtual().start(() -> err[0] = readQuietly(p.getErrorStream()));
        byte[] out = readAll(p, p.getInputStream(), START_TIMEOUT);
        int code = waitFor(p, START_TIMEOUT);
        try {
            errReader.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        String stderr = err[0] == null ? "" : new String(err[0], StandardCharsets.UTF_8).trim();
        if (code != 0) throw new IOException(stderr + ": exit status " + code);
        if (!stderr.isEmpty()) {
            System.getLogger(ShimBinary.class.getName()).log(System.Logger.Level.WARNING, "cleanup warnings " + stderr);
        }
        try {
            DeleteResponse r = DeleteResponse.parseFrom(out);
            return new Exit(r.getPid(), r.getExitStatus(), r.getExitedAt());
        } catch (InvalidProtocolBufferException e) {
            throw new IOException("shim delete printed no DeleteResponse: " + e.getMessage(), e);
        }
    }

    /** {@code unix:///path} or a bare path, or JSON {@code {"version":2,"address":...,"protocol":"ttrpc"}}. */
    static String parseAddress(String out) throws IOException {
        if (!out.startsWith("{")) {
            if (out.isEmpty()) throw new IOException("shim start printed no address");
            return out;
        }
        String address = null;
        String protocol = "ttrpc";
        long version = 2;
        try (JsonParser p = new JsonFactory().createParser(out)) {
            p.nextToken();
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                p.nextToken();
                switch (name) {
                    case "address" -> address = p.getValueAsString();
                    case "protocol" -> protocol = p.getValueAsString();
                    case "version" -> version = p.getValueAsLong();
                    default -> p.skipChildren();
                }
            }
        }
        if (address == null || address.isEmpty()) throw new IOException("shim start reply has no address: " + out);
        if (version > 2) throw new IOException("unsupported shim version " + version);
        if (!"ttrpc".equals(protocol)) throw new IOException("unsupported shim protocol " + protocol + " (only ttrpc)");
        return address;
    }

    /** The socket path of a shim address ({@code unix://} prefix optional). */
    static Path socketPath(String address) throws IOException {
        String a = address.startsWith("unix://") ? address.substring("unix://".length()) : address;
        if (a.startsWith("@") || a.isEmpty() || a.contains("://")) throw new IOException("unsupported shim address " + address);
        return Path.of(a);
    }

    private static byte[] readAll(Process p, InputStream in, Duration timeout) throws IOException {
        // a shim that hangs is killed after the timeout, which also ends this read
        Thread watchdog = Thread.ofVirtual().start(() -> {
            try {
                if (!p.waitFor(timeout.toNanos(), TimeUnit.NANOSECONDS)) p.destroyForcibly();
            } catch (InterruptedException e) {
                // read finished first
            }
        });
        try (in) {
            return in.readAllBytes();
        } finally {
            watchdog.interrupt();
        }
    }

    private static byte[] readQuietly(InputStream in) {
        try (in) {
            return in.readAllBytes();
        } catch (IOException e) {
            return new byte[0];
        }
    }

    private static int waitFor(Process p, Duration timeout) throws IOException {
        try {
            if (!p.waitFor(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
                p.destroyForcibly();
                throw new IOException("shim " + p.info().command().orElse("") + " did not finish within " + GoDuration.format(timeout));
            }
            return p.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw new IOException("interrupted waiting for the shim", e);
        }
    }
}
