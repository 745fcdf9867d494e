package io.jcontainerd.cmd;

import io.jcontainerd.config.Config;
import io.jcontainerd.config.ConfigLoader;
import io.jcontainerd.version.Version;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code jcontainerd} command: runs the daemon, or prints its configuration.
 *
 * <p>The parser is hand-written rather than picocli (which jctr uses): picocli's ~170 classes are
 * compiled for Java 5, so the JDK's AOT cache cannot hold them and every daemon start loaded them from
 * the jar — measured at about 29% of boot CPU (bench/README.md). Five flags and two subcommands do
 * not need a framework.
 */
public final class Main {

    static final String USAGE = """
            Usage: jcontainerd [flags] [command]

            A container runtime daemon speaking containerd's API.

            Flags:
              -c, --config PATH      configuration file (default: %s)
              -a, --address PATH     address for the gRPC unix socket
                  --root PATH        root directory for persistent data
                  --state PATH       directory for runtime state
              -l, --log-level LEVEL  trace, debug, info, warn, error, fatal or panic
              -h, --help             show this help
              -v, --version          print the version

            Commands:
              (none)                 run the daemon
              config default         print the full default configuration
              config dump            print the effective configuration (file and flags)
              publish --topic T --namespace NS
                                     publish an event (a protobuf Any on stdin), as shims do
            """.formatted(Config.DEFAULT_CONFIG_PATH);

    Path config = Path.of(Config.DEFAULT_CONFIG_PATH);
    String address;
    String root;
    String state;
    String logLevel;
    final List<String> command = new ArrayList<>();

    /** A command-line mistake: reported with the usage hint, exit code 1. */
    static final class UsageException extends Exception {
        UsageException(String message) {
            super(message);
        }
    }

    static Main parse(String[] args) throws UsageException {
        Main m = new Main();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!m.command.isEmpty() && m.command.getFirst().equals("publish")) {
                m.command.add(a); // publish parses its own flags
                continue;
            }
            if (!a.startsWith("-") || a.equals("-")) {
                m.command.add(a);
                continue;
            }
            String name = a;
            String value = null;
            int eq = a.indexOf('=');
            if (a.startsWith("--") && eq > 0) {
                name = a.substring(0, eq);
                value = a.substring(eq + 1);
            }
            switch (name) {
                case "-h", "--help" -> m.command.addFirst("help");
                case "-v", "--version" -> m.command.addFirst("version");
                case "-c", "--config", "-a", "--address", "--root", "--state", "-l", "--log-level" -> {
                    if (value == null) {
                        if (i + 1 >= args.length) throw new UsageException("flag needs an argument: " + name);
                        value = args[++i];
                    }
                    switch (name) {
                        case "-c", "--config" -> m.config = Path.of(value);
                        case "-a", "--address" -> m.address = value;
                        case "--root" -> m.root = value;
                        case "--state" -> m.state = value;
                        default -> m.logLevel = value;
                    }
                }
                default -> throw new UsageException("flag provided but not defined: " + a);
            }
        }
        return m;
    }

    /** The config file (missing is fine) with the command-line flags applied on top. */
    ConfigLoader.Loaded loadConfig() {
        ConfigLoader.Loaded loaded = ConfigLoader.load(config);
        Config c = loaded.config();
        if (address != null) c = c.withAddress(address);
        if (root != null) c = c.withRoot(root);
        if (state != null) c = c.withState(state);
        if (logLevel != null) c = c.withLogLevel(logLevel);
        return new ConfigLoader.Loaded(c, loaded.warnings());
    }

    int execute(PrintStream out) throws Exception {
        String cmd = String.join(" ", command);
        return switch (cmd) {
            case "" -> new Daemon(this).run();
            case "config default" -> {
                out.print(ConfigPrinter.defaults());
                yield 0;
            }
            case "config dump" -> {
                out.print(ConfigPrinter.effective(loadConfig().config()));
                yield 0;
            }
            case "version" -> {
                out.println("jcontainerd " + Version.VERSION + " " + Version.REVISION);
                yield 0;
            }
            default -> {
                if (!command.isEmpty() && command.getFirst().equals("publish")) {
                    yield Publish.run(this, command.subList(1, command.size()));
                }
                if (cmd.startsWith("help")) {
                    out.print(USAGE);
                    yield 0;
                }
                throw new UsageException("unknown command: " + cmd);
            }
        };
    }

    public static void main(String[] args) {
        int code;
        try {
            code = parse(args).execute(System.out);
        } catch (UsageException e) {
            System.err.println("jcontainerd: " + e.getMessage() + " (see jcontainerd --help)");
            code = 1;
        } catch (Exception e) {
            System.err.println("jcontainerd: " + (e.getMessage() != null ? e.getMessage() : e.toString()));
            code = 1;
        }
        System.out.flush();
        System.exit(code);
    }
}
