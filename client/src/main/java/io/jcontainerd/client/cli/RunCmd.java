package io.jcontainerd.client.cli;

import io.jcontainerd.client.ClientException;
import io.jcontainerd.client.ContainerdClient;
import io.jcontainerd.client.ContainersClient;
import io.jcontainerd.client.Json;
import io.jcontainerd.client.Mount;
import io.jcontainerd.client.TasksClient;
import io.jcontainerd.client.cio.Console;
import io.jcontainerd.client.cio.TaskIo;
import io.jcontainerd.client.run.NewContainer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code jctr run}: create a container from an image, start its task, and (unless detached) wait for it. */
@Command(name = "run", description = "run a container")
final class RunCmd extends Misc.Base {
    @Option(names = "--rm", description = "remove the container after running, cannot be used with --detach")
    boolean rm;

    @Option(names = {"-d", "--detach"}, description = "detach from the task after it has started execution, cannot be used with --rm")
    boolean detach;

    @Option(names = "--null-io", description = "send all IO to /dev/null")
    boolean nullIo;

    @Option(names = "--fifo-dir", description = "directory used for storing IO FIFOs")
    String fifoDir;

    @Option(names = "--pid-file", description = "file path to write the task's pid")
    Path pidFile;

    @Mixin
    ContainersCmd.ContainerFlags flags = new ContainersCmd.ContainerFlags();

    @Parameters(index = "0", paramLabel = "IMAGE")
    String image;

    @Parameters(index = "1", paramLabel = "ID")
    String id;

    @Parameters(index = "2..*", paramLabel = "COMMAND")
    List<String> args = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        if (rm && detach) throw ClientException.invalidArgument("flags --detach and --rm cannot be specified together");
        ContainerdClient client = client();
        ContainersClient.Container c = NewContainer.create(client, flags.options(this, image, id, args));
        try {
            return startTask(root(), client, c, flags.tty, nullIo, detach, fifoDir, pidFile);
        } finally {
            if (rm) ContainersCmd.delete(client, id, true);
        }
    }

    @Override
    void run() {
        throw new UnsupportedOperationException();
    }

    /**
     * Creates and starts the container's task with stdio through FIFOs (or none), then, unless
     * detached, waits for its exit, deletes the task and returns the exit status.
     */
    static int startTask(Jctr root, ContainerdClient client, ContainersClient.Container c, boolean tty, boolean nullIo,
                         boolean detach, String fifoDir, Path pidFile) throws Exception {
        if (tty && nullIo) throw ClientException.invalidArgument("tty and null-io cannot be used together");
        TasksClient tasks = client.tasks();
        List<Mount> rootfs = c.snapshotKey().isEmpty() ? List.of() : client.snapshots(c.snapshotter()).mounts(c.snapshotKey());
        Console con = Foreground.console(root, tty);
        TaskIo io = null;
        boolean created = false;
        boolean keepIo = false;
        try {
            io = nullIo ? null : Foreground.newIo(root, Foreground.fifoDir(fifoDir), c.id(), tty);
            int pid = tasks.create(c.id(), rootfs, io == null ? TasksClient.Stdio.NULL : io.stdio(), null);
            created = true;
            if (io != null) io.onStdinEof(() -> closeStdinQuietly(tasks, c.id(), ""));
            CompletableFuture<TasksClient.ExitStatus> exit = detach ? null : tasks.waitAsync(c.id(), "");
            if (pidFile != null) Files.writeString(pidFile, Integer.toString(pid));
            tasks.start(c.id(), "");
            if (detach) {
                // like ctr, leave the FIFOs to the task
                keepIo = true;
                return 0;
            }
            int code = Foreground.await(root, tasks, c.id(), "", exit, con, io);
            tasks.delete(c.id());
            created = false;
            return code;
        } finally {
            if (con != null) con.close();
            if (created && !detach) {
                try {
                    tasks.delete(c.id());
                } catch (ClientException ignored) {
                    // still running or gone: the original failure matters more
                }
            }
            if (io != null && !keepIo) io.close();
        }
    }

    static void closeStdinQuietly(TasksClient tasks, String id, String execId) {
        try {
            tasks.closeStdin(id, execId);
        } catch (ClientException ignored) {
            // the process has exited already
        }
    }

    /** Whether the container's spec gives its process a terminal. */
    static boolean specTerminal(ContainersClient.Container c) {
        if (c.spec() == null) return false;
        Map<String, Object> spec = Json.parseObject(c.spec().getValue().toString(StandardCharsets.UTF_8).getBytes(StandardCharsets.UTF_8));
        return Json.obj(spec, "process") instanceof Map<String, Object> p && Boolean.TRUE.equals(p.get("terminal"));
    }
}
