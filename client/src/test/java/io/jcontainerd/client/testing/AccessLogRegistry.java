package io.jcontainerd.client.testing;

import io.jcontainerd.testing.DaemonProcess;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Debian's docker-registry on 127.0.0.1, plain HTTP, logging every request at info level so tests can
 * see what a client asked for (status 206 answers a Range request).
 */
public final class AccessLogRegistry implements AutoCloseable {
    private final Path dir;
    private final int port;
    private final Process process;

    private AccessLogRegistry(Path dir, int port, Process process) {
        this.dir = dir;
        this.port = port;
        this.process = process;
    }

    public static AccessLogRegistry start() throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("jcd-logreg");
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Files.writeString(dir.resolve("config.yml"), """
                version: 0.1
                log:
                  level: info
                  accesslog:
                    disabled: true
                storage:
                  filesystem:
                    rootdirectory: %s
                http:
                  addr: 127.0.0.1:%d
                """.formatted(dir.resolve("data"), port));
        Process p = new ProcessBuilder("/usr/bin/docker-registry", "serve", dir.resolve("config.yml").toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("log").toFile()).start();
        AccessLogRegistry r = new AccessLogRegistry(dir, port, p);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            try (Socket ignored = new Socket("127.0.0.1", port)) {
                return r;
            } catch (IOException notYet) {
                if (!p.isAlive()) break;
                Thread.sleep(50);
            }
        }
        String log = Files.exists(dir.resolve("log")) ? Files.readString(dir.resolve("log")) : "";
        r.close();
        throw new IOException("registry did not start: " + log);
    }

    public String host() {
        return "127.0.0.1:" + port;
    }

    /** The "response completed" lines logged so far. */
    public List<String> responses() throws IOException {
        return Files.readAllLines(dir.resolve("log")).stream().filter(l -> l.contains("response completed")).toList();
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
