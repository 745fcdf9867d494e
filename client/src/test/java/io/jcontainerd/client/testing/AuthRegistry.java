package io.jcontainerd.client.testing;

import io.jcontainerd.testing.DaemonProcess;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** Debian's docker-registry on 127.0.0.1 with htpasswd basic auth (bcrypt entries from {@code htpasswd -Bbn}). */
public final class AuthRegistry implements AutoCloseable {
    private final Path dir;
    private final int port;
    private final Process process;

    private AuthRegistry(Path dir, int port, Process process) {
        this.dir = dir;
        this.port = port;
        this.process = process;
    }

    public static AuthRegistry start(String user, String password) throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("jcd-authreg");
        Process hp = new ProcessBuilder("htpasswd", "-Bbn", user, password).redirectErrorStream(true).start();
        String entry = new String(hp.getInputStream().readAllBytes());
        if (hp.waitFor() != 0) throw new IOException("htpasswd failed: " + entry);
        Files.writeString(dir.resolve("htpasswd"), entry.strip() + "\n");
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Files.writeString(dir.resolve("config.yml"), """
                version: 0.1
                log:
                  level: warn
                storage:
                  filesystem:
                    rootdirectory: %s
                http:
                  addr: 127.0.0.1:%d
                auth:
                  htpasswd:
                    realm: jcontainerd-test
                    path: %s
                """.formatted(dir.resolve("data"), port, dir.resolve("htpasswd")));
        Process p = new ProcessBuilder("/usr/bin/docker-registry", "serve", dir.resolve("config.yml").toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("log").toFile()).start();
        AuthRegistry r = new AuthRegistry(dir, port, p);
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
