package io.jcontainerd.client.cli;

import io.jcontainerd.client.ClientException;
import io.jcontainerd.client.ContainerdClient;
import io.jcontainerd.client.ContainersClient;
import io.jcontainerd.client.Json;
import io.jcontainerd.client.Mount;
import io.jcontainerd.client.TasksClient;
import io.jcontainerd.client.cio.Console;
import io.jcontainerd.client.cio.TaskIo;
import io.jcontainerd.client.oci.Spec;
import io.jcontainerd.client.run.NewContainer;
import com.google.protobuf.Any;
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

    @Mixin
    RunFlags runFlags = new RunFlags();

    /** The flags of ctr run that containers create lacks (ctr's run flags and its Linux ones). */
    static final class RunFlags {
        @Option(names = "--log-uri", description = "log uri")
        String logUri;

        @Option(names = "--cgroup", description = "cgroup path (To disable use of cgroup, set to \"\" explicitly)")
        String cgroup;

        @Option(names = "--platform", description = "run image for specific platform")
        String platform;

        @Option(names = "--runc-binary", description = "specify runc-compatible binary")
        String runcBinary;

        @Option(names = "--runc-root", description = "specify runc-compatible root")
        String runcRoot;

        @Option(names = "--runc-systemd-cgroup", description = "start runc with systemd cgroup manager")
        boolean runcSystemdCgroup;

        @Option(names = "--uidmap", paramLabel = "container-uid:host-uid:length",
                description = "run inside a user namespace with the specified UID mapping range; specified with the format container-uid:host-uid:length")
        String uidmap;

        @Option(names = "--gidmap", paramLabel = "container-gid:host-gid:length",
                description = "run inside a user namespace with the specified GID mapping range; specified with the format container-gid:host-gid:length")
        String gidmap;

        @Option(names = "--remap-labels", description = "provide the user namespace ID remapping to the snapshotter via label options; requires snapshotter support")
        boolean remapLabels;

        @Option(names = "--cpus", description = "set the CFS cpu quota (default: 0)", defaultValue = "0")
        double cpus;

        @Option(names = "--cpu-shares", description = "set the cpu shares (default: 1024)", defaultValue = "1024")
        long cpuShares;

        /** A user namespace when both maps are given (ctr ignores one alone for the spec). */
        NewContainer.UserNamespace userNamespace() {
            if (uidmap == null || uidmap.isEmpty() || gidmap == null || gidmap.isEmpty()) return null;
            return new NewContainer.UserNamespace(Spec.IdMapping.parse(uidmap), Spec.IdMapping.parse(gidmap), remapLabels);
        }

        /**
         * The task's runc options, as ctr's task options set them: no pivot_root, and the owner of the
         * stdio FIFOs from the host ids of the maps; null when none applies.
         */
        Any taskOptions(String runtime, boolean noPivot) {
            if (!runtime.startsWith("io.containerd.runc")) return null;
            boolean uid = uidmap != null && !uidmap.isEmpty();
            boolean gid = gidmap != null && !gidmap.isEmpty();
            if (!noPivot && !uid && !gid) return null;
            var o = io.jcontainerd.api.runc.v1.Options.newBuilder().setNoPivotRoot(noPivot);
            if (uid) o.setIoUid((int) Spec.IdMapping.parse(uidmap).hostId());
            if (gid) o.setIoGid((int) Spec.IdMapping.parse(gidmap).hostId());
            return Any.newBuilder().setTypeUrl(NewContainer.RUNC_OPTIONS_TYPE).setValue(o.build().toByteString()).build();
        }
    }

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
        ContainersClient.Container c = NewContainer.create(client, flags.options(this, image, id, args, runFlags));
        try {
            return startTask(root(), client, c, flags.tty, nullIo, detach, fifoDir, pidFile, runFlags.logUri,
                    runFlags.taskOptions(c.runtime(), flags.noPivot));
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
        return startTask(root, client, c, tty, nullIo, detach, fifoDir, pidFile, null, null);
    }

    /**
     * As above, with ctr run's {@code --log-uri} (stdout and stderr to that URI, no stdin; a terminal
     * or --null-io take precedence) and task options (null: none).
     */
    static int startTask(Jctr root, ContainerdClient client, ContainersClient.Container c, boolean tty, boolean nullIo,
                         boolean detach, String fifoDir, Path pidFile, String logUri, Any taskOptions) throws Exception {
        if (tty && nullIo) throw ClientException.invalidArgument("tty and null-io cannot be used together");
        TasksClient tasks = client.tasks();
        List<Mount> rootfs = c.snapshotKey().isEmpty() ? List.of() : client.snapshots(c.snapshotter()).mounts(c.snapshotKey());
        Console con = Foreground.console(root, tty);
        TaskIo io = null;
        boolean created = false;
        boolean keepIo = false;
        try {
            boolean toLog = !tty && !nullIo && logUri != null && !logUri.isEmpty();
            io = nullIo || toLog ? null : Foreground.newIo(root, Foreground.fifoDir(fifoDir), c.id(), tty);
            TasksClient.Stdio stdio = io != null ? io.stdio() : TasksClient.Stdio.NULL;
            if (toLog) {
                String uri = logUri(logUri);
                stdio = new TasksClient.Stdio("", uri, uri, false);
            }
            int pid = tasks.create(c.id(), rootfs, stdio, taskOptions);
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

    /**
     * A log URI as ctr passes it on (Go's URL parse and re-format): {@code scheme:/path} gains the
     * empty authority ({@code scheme:///path}); anything unparsable is an error.
     */
    static String logUri(String s) {
        java.net.URI u;
        try {
            u = new java.net.URI(s);
        } catch (java.net.URISyntaxException e) {
            throw ClientException.invalidArgument("parse %s: %s", s, e.getReason());
        }
        if (u.getScheme() != null && !u.isOpaque() && u.getRawAuthority() == null && u.getRawPath() != null
                && u.getRawPath().startsWith("/") && !s.startsWith(u.getScheme() + "://")) {
            return u.getScheme() + "://" + s.substring(u.getScheme().length() + 1);
        }
        return s;
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
