package io.jcontainerd.client.cli;

import com.google.protobuf.Any;
import com.google.protobuf.Descriptors;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.jcontainerd.api.runc.v1.ProcessDetails;
import io.jcontainerd.client.ClientException;
import io.jcontainerd.client.ContainerdClient;
import io.jcontainerd.client.ContainersClient;
import io.jcontainerd.client.Json;
import io.jcontainerd.client.TasksClient;
import io.jcontainerd.client.cio.Console;
import io.jcontainerd.client.cio.TaskIo;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code jctr tasks ...}. */
@Command(name = "tasks", aliases = {"t", "task"}, description = "manage tasks",
        subcommands = {TasksCmd.Attach.class, TasksCmd.Rm.class, TasksCmd.Exec.class, TasksCmd.Ls.class, TasksCmd.Kill.class,
                TasksCmd.Pause.class, TasksCmd.Ps.class, TasksCmd.Resume.class, TasksCmd.Start.class, TasksCmd.Metrics.class})
final class TasksCmd extends Misc.Group {

    @Command(name = "start", description = "start a container that has been created")
    static final class Start extends Misc.Base {
        @Option(names = "--null-io", description = "send all IO to /dev/null")
        boolean nullIo;

        @Option(names = "--fifo-dir", description = "directory used for storing IO FIFOs")
        String fifoDir;

        @Option(names = "--pid-file", description = "file path to write the task's pid")
        Path pidFile;

        @Option(names = {"-d", "--detach"}, description = "detach from the task after it has started execution")
        boolean detach;

        @Parameters(index = "0", paramLabel = "CONTAINER")
        String id;

        @Override
        public Integer call() throws Exception {
            ContainersClient.Container c = client().containers().get(id);
            return RunCmd.startTask(root(), client(), c, RunCmd.specTerminal(c), nullIo, detach, fifoDir, pidFile);
        }

        @Override
        void run() {
            throw new UnsupportedOperationException();
        }
    }

    @Command(name = "list", aliases = "ls", description = "list tasks")
    static final class Ls extends Misc.Base {
        @Option(names = {"-q", "--quiet"}, description = "print only the task id")
        boolean quiet;

        @Override
        void run() {
            List<TasksClient.Process> ts = client().tasks().list(null);
            if (quiet) {
                ts.forEach(t -> out().println(t.id()));
                return;
            }
            Table t = new Table(4, 4).row("TASK", "PID", "STATUS", "");
            for (TasksClient.Process p : ts) t.row(p.id(), p.pid(), p.status().name());
            t.print(out());
        }
    }

    @Command(name = "ps", description = "list processes for container")
    static final class Ps extends Misc.Base {
        @Parameters(index = "0", paramLabel = "CONTAINER")
        String id;

        @Override
        void run() throws InvalidProtocolBufferException {
            Table t = new Table(1, 4).row("PID", "INFO");
            for (TasksClient.ProcessInfo p : client().tasks().pids(id)) t.row(p.pid(), info(p.info()));
            t.print(out());
        }

        /** The process details as ctr prints them (Go's %+v of the decoded message). */
        private static String info(Any a) throws InvalidProtocolBufferException {
            if (a == null) return "-";
            if (a.getTypeUrl().equals("containerd.runc.v1.ProcessDetails")) {
                return "&ProcessDetails{ExecID:" + ProcessDetails.parseFrom(a.getValue()).getExecId() + ",XXX_unrecognized:[],}";
            }
            return a.getTypeUrl();
        }
    }

    @Command(name = "exec", description = "execute additional processes in an existing container")
    static final class Exec extends Misc.Base {
        @Option(names = "--cwd", description = "working directory of the new process")
        String cwd;

        @Option(names = {"-t", "--tty"}, description = "allocate a TTY for the container")
        boolean tty;

        @Option(names = {"-d", "--detach"}, description = "detach from the task after it has started execution")
        boolean detach;

        @Option(names = "--exec-id", required = true, description = "exec specific id for the process")
        String execId;

        @Option(names = "--fifo-dir", description = "directory used for storing IO FIFOs")
        String fifoDir;

        @Option(names = "--user", description = "user id or name")
        String user;

        @Parameters(index = "0", paramLabel = "CONTAINER")
        String id;

        @Parameters(index = "1..*", arity = "1..*", paramLabel = "COMMAND")
        List<String> args = new ArrayList<>();

        @Override
        @SuppressWarnings("unchecked")
        public Integer call() throws Exception {
            ContainerdClient client = client();
            ContainersClient.Container c = client.containers().get(id);
            Map<String, Object> spec = Json.parseObject(c.spec().getValue().toByteArray());
            Map<String, Object> process = new LinkedHashMap<>();
            if (tty) process.put("terminal", true);
            Map<String, Object> base = Json.obj(spec, "process");
            if (base != null) base.forEach((k, v) -> {
                if (!k.equals("terminal")) process.put(k, v);
            });
            process.put("args", args);
            if (cwd != null && !cwd.isEmpty()) process.put("cwd", cwd);
            if (user != null && !user.isEmpty()) setUser(process, user);
            TasksClient tasks = client.tasks();
            Console con = Foreground.console(root(), tty);
            TaskIo io = null;
            boolean added = false;
            try {
                io = Foreground.newIo(root(), Foreground.fifoDir(fifoDir), execId, tty);
                tasks.exec(id, execId, Json.write(process), io.stdio());
                added = true;
                TaskIo fio = io;
                io.onStdinEof(() -> RunCmd.closeStdinQuietly(tasks, id, execId));
                CompletableFuture<TasksClient.ExitStatus> exit = detach ? null : tasks.waitAsync(id, execId);
                tasks.start(id, execId);
                if (detach) {
                    io = null;
                    return 0;
                }
                int code = Foreground.await(root(), tasks, id, execId, exit, con, fio);
                return code;
            } finally {
                if (con != null) con.close();
                if (added && !detach) {
                    try {
                        tasks.deleteProcess(id, execId);
                    } catch (ClientException ignored) {
                        // still running or already gone
                    }
                }
                if (io != null) io.close();
            }
        }

        /** Numeric {@code uid[:gid]} only: names would need the container's root file system. */
        @SuppressWarnings("unchecked")
        private static void setUser(Map<String, Object> process, String user) {
            Map<String, Object> u = process.get("user") instanceof Map<?, ?> m ? new LinkedHashMap<>((Map<String, Object>) m) : new LinkedHashMap<>();
            String[] parts = user.split(":", 2);
            try {
                u.put("uid", Long.parseLong(parts[0]));
                u.put("gid", parts.length > 1 ? Long.parseLong(parts[1]) : 0L);
            } catch (NumberFormatException e) {
                throw ClientException.invalidArgument("--user %s: only numeric uid[:gid] is supported", user);
            }
            u.remove("additionalGids");
            process.put("user", u);
        }

        @Override
        void run() {
            throw new UnsupportedOperationException();
        }
    }

    @Command(name = "attach", description = "attach to the IO of a running container")
    static final class Attach extends Misc.Base {
        @Parameters(index = "0", paramLabel = "CONTAINER")
        String id;

        @Override
        public Integer call() throws Exception {
            TasksClient tasks = client().tasks();
            TasksClient.Process p = tasks.get(id, null);
            Console con = Foreground.console(root(), p.stdio().terminal());
            try (TaskIo io = TaskIo.attach(p.stdio(), root().stdin, root().stdout, root().stderr)) {
                CompletableFuture<TasksClient.ExitStatus> exit = tasks.waitAsync(id, null);
                return Foreground.await(root(), tasks, id, "", exit, con, io);
            } finally {
                if (con != null) con.close();
            }
        }

        @Override
        void run() {
            throw new UnsupportedOperationException();
        }
    }

    @Command(name = "kill", description = "signal a container (default: SIGTERM)")
    static final class Kill extends Misc.Base {
        @Option(names = {"-s", "--signal"}, description = "signal to send to the container")
        String signal;

        @Option(names = "--exec-id", description = "process ID to kill")
        String execId;

        // ctr also spells it -a; here -a is the inherited --address
        @Option(names = "--all", description = "send signal to all processes inside the container")
        boolean all;

        @Parameters(index = "0", paramLabel = "CONTAINER")
        String id;

        @Override
        void run() {
            if (all && execId != null && !execId.isEmpty()) throw ClientException.invalidArgument("specify an exec-id or all; not both");
            String sig = signal;
            if (sig == null || sig.isEmpty()) {
                // the image's stop signal, as ctr does
                sig = client().containers().get(id).labels().getOrDefault("io.containerd.image.config.stop-signal", "SIGTERM");
            }
            client().tasks().kill(id, execId, Foreground.signal(sig), all);
        }
    }

    @Command(name = "pause", description = "pause an existing container")
    static final class Pause extends Misc.Base {
        @Parameters(index = "0", paramLabel = "CONTAINER")
        String id;

        @Override
        void run() {
            client().tasks().pause(id);
        }
    }

    @Command(name = "resume", description = "resume a paused container")
    static final class Resume extends Misc.Base {
        @Parameters(index = "0", paramLabel = "CONTAINER")
        String id;

        @Override
        void run() {
            client().tasks().resume(id);
        }
    }

    @Command(name = "delete", aliases = {"del", "remove", "rm"}, description = "delete one or more tasks")
    static final class Rm extends Misc.Base {
        @Option(names = {"-f", "--force"}, description = "force delete task process")
        boolean force;

        @Option(names = "--exec-id", description = "process ID to kill")
        String execId;

        @Parameters(arity = "1..*", paramLabel = "CONTAINER")
        List<String> ids;

        @Override
        public Integer call() {
            TasksClient tasks = client().tasks();
            if (execId != null && !execId.isEmpty()) {
                String id = ids.getFirst();
                tasks.get(id, execId);
                if (force) killAndWait(tasks, id, execId);
                return tasks.deleteProcess(id, execId).code();
            }
            ClientException first = null;
            for (String id : ids) {
                try {
                    TasksClient.Process p = tasks.get(id, null);
                    if (force && p.status() != TasksClient.Status.STOPPED) killAndWait(tasks, id, null);
                    int code = tasks.delete(id).code();
                    if (code != 0) root().err.println("jctr: task " + id + " exit with non-zero exit code " + code);
                } catch (ClientException e) {
                    if (ids.size() > 1) root().err.println("jctr: unable to delete " + id + ": " + e.getMessage());
                    if (first == null) first = e;
                }
            }
            if (first != null) throw first;
            return 0;
        }

        private static void killAndWait(TasksClient tasks, String id, String execId) {
            CompletableFuture<TasksClient.ExitStatus> exit = tasks.waitAsync(id, execId);
            try {
                tasks.kill(id, execId, 9, false);
            } catch (ClientException e) {
                if (!e.isNotFound() && !e.isFailedPrecondition()) throw e;
            }
            TasksClient.join(exit);
        }

        @Override
        void run() {
            throw new UnsupportedOperationException();
        }
    }

    @Command(name = "metrics", aliases = "metric", description = "get a single data point of metrics for a task with the built-in Linux runtime")
    static final class Metrics extends Misc.Base {
        @Option(names = "--format", defaultValue = "table", description = "\"table\" or \"json\"")
        String format;

        @Parameters(index = "0", paramLabel = "CONTAINER")
        String id;

        @Override
        void run() throws InvalidProtocolBufferException {
            client().tasks().get(id, null);
            List<TasksClient.Metric> ms = client().tasks().metrics("id==" + id);
            if (ms.isEmpty()) throw ClientException.notFound("no metrics received for %s", id);
            TasksClient.Metric m = ms.getFirst();
            Message data = decode(m.data());
            switch (format) {
                case "table" -> {
                    new Table(1, 4).row("ID", "TIMESTAMP", "").row(m.id(), goTime(m.timestamp()), "").print(out());
                    out().println();
                    Table t = new Table(1, 4).row("METRIC", "VALUE", "");
                    if (data instanceof io.jcontainerd.api.cgroups.v1.Metrics v1) {
                        if (v1.hasMemory()) {
                            t.row("memory.usage_in_bytes", Long.toUnsignedString(v1.getMemory().getUsage().getUsage()), "");
                            t.row("memory.limit_in_bytes", Long.toUnsignedString(v1.getMemory().getUsage().getLimit()), "");
                            t.row("memory.stat.cache", Long.toUnsignedString(v1.getMemory().getTotalCache()), "");
                        }
                        if (v1.hasCpu()) {
                            t.row("cpuacct.usage", Long.toUnsignedString(v1.getCpu().getUsage().getTotal()), "");
                            t.row("cpuacct.usage_percpu", v1.getCpu().getUsage().getPerCpuList().stream()
                                    .map(Long::toUnsignedString).collect(Collectors.joining(" ", "[", "]")), "");
                        }
                        if (v1.hasPids()) {
                            t.row("pids.current", Long.toUnsignedString(v1.getPids().getCurrent()), "");
                            t.row("pids.limit", Long.toUnsignedString(v1.getPids().getLimit()), "");
                        }
                    } else if (data instanceof io.jcontainerd.api.cgroups.v2.Metrics v2) {
                        if (v2.hasPids()) {
                            t.row("pids.current", Long.toUnsignedString(v2.getPids().getCurrent()), "");
                            t.row("pids.limit", Long.toUnsignedString(v2.getPids().getLimit()), "");
                        }
                        if (v2.hasCpu()) {
                            var c = v2.getCpu();
                            t.row("cpu.usage_usec", Long.toUnsignedString(c.getUsageUsec()), "");
                            t.row("cpu.user_usec", Long.toUnsignedString(c.getUserUsec()), "");
                            t.row("cpu.system_usec", Long.toUnsignedString(c.getSystemUsec()), "");
                            t.row("cpu.nr_periods", Long.toUnsignedString(c.getNrPeriods()), "");
                            t.row("cpu.nr_throttled", Long.toUnsignedString(c.getNrThrottled()), "");
                            t.row("cpu.throttled_usec", Long.toUnsignedString(c.getThrottledUsec()), "");
                        }
                        if (v2.hasMemory()) {
                            var mem = v2.getMemory();
                            t.row("memory.usage", Long.toUnsignedString(mem.getUsage()), "");
                            t.row("memory.usage_limit", Long.toUnsignedString(mem.getUsageLimit()), "");
                            t.row("memory.swap_usage", Long.toUnsignedString(mem.getSwapUsage()), "");
                            t.row("memory.swap_limit", Long.toUnsignedString(mem.getSwapLimit()), "");
                        }
                    }
                    t.print(out());
                }
                case "json" -> out().println(Json.pretty(toJson(data), "  "));
                default -> throw ClientException.invalidArgument("format must be table or json");
            }
        }

        private static Message decode(Any a) throws InvalidProtocolBufferException {
            if (a == null) throw ClientException.notFound("no metric data");
            return switch (a.getTypeUrl()) {
                case "io.containerd.cgroups.v1.Metrics" -> io.jcontainerd.api.cgroups.v1.Metrics.parseFrom(a.getValue());
                case "io.containerd.cgroups.v2.Metrics" -> io.jcontainerd.api.cgroups.v2.Metrics.parseFrom(a.getValue());
                default -> throw ClientException.invalidArgument("cannot convert metric data %s to cgroups.Metrics", a.getTypeUrl());
            };
        }

        /** The set fields of a message by their proto names, as Go's encoder writes the generated structs. */
        private static Map<String, Object> toJson(Message m) {
            Map<String, Object> out = new LinkedHashMap<>();
            for (var e : m.getAllFields().entrySet()) {
                Descriptors.FieldDescriptor f = e.getKey();
                Object v = e.getValue();
                out.put(f.getName(), f.isRepeated() ? ((List<?>) v).stream().map(TasksCmd.Metrics::value).toList() : value(v));
            }
            return out;
        }

        private static Object value(Object v) {
            return switch (v) {
                case Message msg -> toJson(msg);
                case Long l when l < 0 -> new java.math.BigInteger(Long.toUnsignedString(l));
                default -> v;
            };
        }

        /** Go's time.Time String(): "2006-01-02 15:04:05.999999999 -0700 MST", in UTC. */
        static String goTime(Instant t) {
            if (t == null) return "0001-01-01 00:00:00 +0000 UTC";
            String base = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneOffset.UTC).format(t);
            String frac = "";
            if (t.getNano() != 0) frac = ("." + String.format("%09d", t.getNano())).replaceAll("0+$", "");
            return base + frac + " +0000 UTC";
        }
    }
}
