package io.jcontainerd.client.cli;

import io.jcontainerd.client.ClientException;
import io.jcontainerd.client.ContainerdClient;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code jctr}: a ctr-shaped command line for jcontainerd (and containerd) over the Java client library. */
@Command(name = "jctr", mixinStandardHelpOptions = true, versionProvider = Jctr.VersionProvider.class,
        description = "jcontainerd CLI (ctr-compatible commands over the Java client)",
        subcommands = {Misc.VersionCmd.class, Misc.Plugins.class, Misc.Namespaces.class, Misc.Content.class,
                Misc.Leases.class, Misc.Events.class, Misc.Snapshots.class, ImagesCmd.class, ContainersCmd.class,
                TasksCmd.class, RunCmd.class})
public final class Jctr {
    @Option(names = {"-a", "--address"}, description = "address for jcontainerd's GRPC server (env CONTAINERD_ADDRESS)",
            scope = CommandLine.ScopeType.INHERIT)
    String address;

    @Option(names = {"-n", "--namespace"}, description = "namespace to use with commands (env CONTAINERD_NAMESPACE)",
            scope = CommandLine.ScopeType.INHERIT)
    String namespace;

    @Option(names = "--debug", description = "print stack traces of errors", scope = CommandLine.ScopeType.INHERIT)
    boolean debug;

    final Map<String, String> env;
    final PrintWriter out;
    final PrintWriter err;
    /** The raw streams a container's stdio is copied to and from (binary, unlike out/err). */
    final InputStream stdin;
    final OutputStream stdout;
    final OutputStream stderr;
    /** Whether this is the jctr process itself (signals and the terminal are ours to handle). */
    final boolean standalone;
    private ContainerdClient client;

    Jctr(Map<String, String> env, InputStream stdin, OutputStream stdout, OutputStream stderr, PrintWriter out, PrintWriter err,
         boolean standalone) {
        this.env = env;
        this.stdin = stdin;
        this.stdout = stdout;
        this.stderr = stderr;
        this.out = out;
        this.err = err;
        this.standalone = standalone;
    }

    /** The client for the selected address and namespace (connected once). */
    ContainerdClient client() {
        if (client == null) {
            String a = address != null ? address : env.getOrDefault("CONTAINERD_ADDRESS", ContainerdClient.DEFAULT_ADDRESS);
            String n = namespace != null ? namespace : env.getOrDefault("CONTAINERD_NAMESPACE", ContainerdClient.DEFAULT_NAMESPACE);
            client = ContainerdClient.connect(a, n);
        }
        return client;
    }

    void close() {
        if (client != null) client.close();
    }

    public static void main(String[] args) {
        // grpc-netty warns about TCP options on unix sockets; a CLI should not
        java.util.logging.Logger.getLogger("io.grpc.netty.shaded.io.netty").setLevel(java.util.logging.Level.SEVERE);
        OutputStream o = new FileOutputStream(FileDescriptor.out);
        OutputStream e = new FileOutputStream(FileDescriptor.err);
        System.exit(run(args, System.getenv(), new FileInputStream(FileDescriptor.in), o, e, true));
    }

    /** Runs one command line; returns the exit code (0 ok, 1 failure with "jctr: message" on err, 2 usage). */
    public static int run(String[] args, Map<String, String> env, PrintWriter out, PrintWriter err) {
        return run(args, env, InputStream.nullInputStream(), new WriterStream(out), new WriterStream(err), out, err, false);
    }

    /**
     * Runs one command line with binary streams: a container's stdio is copied to and from them
     * unchanged; jctr's own output is UTF-8 text on the same streams. Returns the exit code (a
     * foreground container's exit status for run, tasks start and exec).
     */
    public static int run(String[] args, Map<String, String> env, InputStream in, OutputStream out, OutputStream err) {
        return run(args, env, in, out, err, false);
    }

    private static int run(String[] args, Map<String, String> env, InputStream in, OutputStream out, OutputStream err, boolean standalone) {
        return run(args, env, in, out, err, new PrintWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8)),
                new PrintWriter(new OutputStreamWriter(err, StandardCharsets.UTF_8)), standalone);
    }

    private static int run(String[] args, Map<String, String> env, InputStream in, OutputStream rawOut, OutputStream rawErr,
                           PrintWriter out, PrintWriter err, boolean standalone) {
        Jctr root = new Jctr(new HashMap<>(env), in, rawOut, rawErr, out, err, standalone);
        CommandLine cl = new CommandLine(root);
        cl.setOut(out).setErr(err);
        // "jctr -n run run ...": a namespace may be named like a command
        cl.setAllowSubcommandsAsOptionParameters(true);
        // a container's command line is the container's: "-c" after the image is not a jctr option
        cl.getSubcommands().get("run").setStopAtPositional(true);
        cl.getSubcommands().get("containers").getSubcommands().get("create").setStopAtPositional(true);
        cl.getSubcommands().get("tasks").getSubcommands().get("exec").setStopAtPositional(true);
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            String msg = ex instanceof ClientException || ex.getMessage() != null ? ex.getMessage() : ex.toString();
            err.println("jctr: " + msg);
            if (root.debug) ex.printStackTrace(err);
            err.flush();
            return 1;
        });
        try {
            return cl.execute(args);
        } finally {
            root.close();
            out.flush();
            err.flush();
        }
    }

    /** Text written to a PrintWriter as bytes arrive (the in-process, text-only form of {@link #run}). */
    private static final class WriterStream extends OutputStream {
        private final PrintWriter w;

        WriterStream(PrintWriter w) {
            this.w = w;
        }

        @Override
        public void write(int b) {
            w.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) {
            w.write(new String(b, off, len, StandardCharsets.UTF_8));
        }

        @Override
        public void flush() {
            w.flush();
        }
    }

    static final class VersionProvider implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"jctr " + Misc.clientVersion()};
        }
    }

    /** Parses {@code k=v} arguments into labels as ctr does: a bare {@code k} is {@code k=true}, {@code k=} is empty (clears on update). */
    static Map<String, String> labels(List<String> kvs) {
        Map<String, String> m = new java.util.LinkedHashMap<>();
        if (kvs == null) return m;
        for (String kv : kvs) {
            int eq = kv.indexOf('=');
            if (eq < 0) m.put(kv, "true");
            else m.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
        return m;
    }
}
