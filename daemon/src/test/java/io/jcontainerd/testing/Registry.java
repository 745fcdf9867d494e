package io.jcontainerd.testing;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A real OCI distribution registry (Debian's docker-registry) on 127.0.0.1, plain HTTP, on a free port. */
public final class Registry implements AutoCloseable {
    private final Path dir;
    private final int port;
    private final Process process;

    private Registry(Path dir, int port, Process process) {
        this.dir = dir;
        this.port = port;
        this.process = process;
    }

    public static Registry start() throws IOException, InterruptedException {
        return start(Files.createTempDirectory("jcd-registry"), "");
    }

    /** With htpasswd basic auth for one user (a bcrypt entry from {@code htpasswd -Bbn}). */
    public static Registry withBasicAuth(String user, String password) throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("jcd-authreg");
        Process hp = new ProcessBuilder("htpasswd", "-Bbn", user, password).redirectErrorStream(true).start();
        String entry = new String(hp.getInputStream().readAllBytes());
        if (hp.waitFor() != 0) {
            DaemonProcess.Cleanup.deleteTree(dir);
            throw new IOException("htpasswd failed: " + entry);
        }
        Files.writeString(dir.resolve("htpasswd"), entry.strip() + "\n");
        return start(dir, """
                auth:
                  htpasswd:
                    realm: jcontainerd-test
                    path: %s
                """.formatted(dir.resolve("htpasswd")));
    }

    /**
     * Serves from {@code dir} (which the registry owns from now on: removed on close), with {@code extra}
     * appended to its config.yml (top-level sections such as {@code auth:}).
     */
    public static Registry start(Path dir, String extra) throws IOException, InterruptedException {
        return start(dir, "warn", "", extra);
    }

    /** Serving HTTPS only, with the given PEM certificate and key (copied into the registry's directory). */
    public static Registry withTls(Path cert, Path key) throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("jcd-tlsreg");
        Files.copy(cert, dir.resolve("tls.crt"));
        Files.copy(key, dir.resolve("tls.key"));
        return start(dir, "warn", """
                  tls:
                    certificate: %s
                    key: %s
                """.formatted(dir.resolve("tls.crt"), dir.resolve("tls.key")), "");
    }

    /** Logging every response at info level, for tests that check what a client asked for ({@link #responses()}). */
    public static Registry withResponseLog() throws IOException, InterruptedException {
        return start(Files.createTempDirectory("jcd-logreg"), "info", "", "");
    }

    private static Registry start(Path dir, String logLevel, String http, String extra) throws IOException, InterruptedException {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Files.writeString(dir.resolve("config.yml"), """
                version: 0.1
                log:
                  level: %s
                  accesslog:
                    disabled: true
                storage:
                  filesystem:
                    rootdirectory: %s
                http:
                  addr: 127.0.0.1:%d
                """.formatted(logLevel, dir.resolve("data"), port) + http + extra);
        Process p = new ProcessBuilder("/usr/bin/docker-registry", "serve", dir.resolve("config.yml").toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("log").toFile()).start();
        Registry r = new Registry(dir, port, p);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            try (Socket ignored = new Socket("127.0.0.1", port)) {
                return r;
            } catch (IOException notYet) {
                if (!p.isAlive()) break;
                Thread.sleep(50);
            }
        }
        String log = r.log();
        r.close();
        throw new IOException("registry did not start: " + log);
    }

    /** The "response completed" lines logged so far (status, method, URI of each answered request). */
    public List<String> responses() throws IOException {
        return log().lines().filter(l -> l.contains("response completed")).toList();
    }

    /** What the registry wrote to its log so far. */
    public String log() throws IOException {
        Path log = dir.resolve("log");
        return Files.exists(log) ? Files.readString(log) : "";
    }

    /** {@code 127.0.0.1:<port>} */
    public String host() {
        return "127.0.0.1:" + port;
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) process.destroyForcibly().waitFor();
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        DaemonProcess.Cleanup.deleteTree(dir);
    }
}
