package io.jcontainerd.client.cli;

import io.jcontainerd.client.ClientException;
import io.jcontainerd.client.ContainerdClient;
import java.io.PrintWriter;
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
                Misc.Leases.class, Misc.Events.class, Misc.Snapshots.class, ImagesCmd.class})
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
    private ContainerdClient client;

    Jctr(Map<String, String> env, PrintWriter out, PrintWriter err) {
        this.env = env;
        this.out = out;
        this.err = err;
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
        System.exit(run(args, System.getenv(), new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs one command line; returns the exit code (0 ok, 1 failure with "jctr: message" on err, 2 usage). */
    public static int run(String[] args, Map<String, String> env, PrintWriter out, PrintWriter err) {
        Jctr root = new Jctr(new HashMap<>(env), out, err);
        CommandLine cl = new CommandLine(root);
        cl.setOut(out).setErr(err);
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

    static final class VersionProvider implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"jctr " + Misc.clientVersion()};
        }
    }

    /** Parses {@code k=v} arguments into labels. */
    static Map<String, String> labels(List<String> kvs) {
        Map<String, String> m = new java.util.LinkedHashMap<>();
        if (kvs == null) return m;
        for (String kv : kvs) {
            int eq = kv.indexOf('=');
            if (eq < 0) m.put(kv, "");
            else m.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
        return m;
    }
}
