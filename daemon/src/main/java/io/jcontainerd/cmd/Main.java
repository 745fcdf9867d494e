package io.jcontainerd.cmd;

import io.jcontainerd.config.Config;
import io.jcontainerd.config.ConfigLoader;
import io.jcontainerd.version.Version;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/** The {@code jcontainerd} command: runs the daemon, or prints its configuration. */
@Command(name = "jcontainerd", mixinStandardHelpOptions = true, versionProvider = Main.VersionInfo.class,
        description = "A container runtime daemon speaking containerd's API.",
        subcommands = {Main.ConfigCommand.class, Publish.class})
public final class Main implements Callable<Integer> {

    @Option(names = {"-c", "--config"}, description = "path to the configuration file (default: ${DEFAULT-VALUE})",
            defaultValue = Config.DEFAULT_CONFIG_PATH)
    Path config;

    @Option(names = {"-a", "--address"}, description = "address for the gRPC unix socket")
    String address;

    @Option(names = "--root", description = "root directory for persistent data")
    String root;

    @Option(names = "--state", description = "directory for runtime state")
    String state;

    @Option(names = {"-l", "--log-level"}, description = "trace, debug, info, warn, error, fatal or panic")
    String logLevel;

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

    @Override
    public Integer call() throws Exception {
        return new Daemon(this).run();
    }

    public static void main(String[] args) {
        CommandLine cl = new CommandLine(new Main());
        cl.setParameterExceptionHandler((ex, a) -> {
            ex.getCommandLine().getErr().println("jcontainerd: " + ex.getMessage());
            return 1;
        });
        cl.setExecutionExceptionHandler((ex, command, parsed) -> {
            String msg = ex.getMessage() != null ? ex.getMessage() : String.valueOf(ex);
            command.getErr().println("jcontainerd: " + msg);
            return 1;
        });
        int code = cl.execute(args);
        System.exit(code);
    }

    static final class VersionInfo implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"jcontainerd " + Version.VERSION + " " + Version.REVISION};
        }
    }

    @Command(name = "config", description = "Print configuration.", subcommands = {ConfigDefault.class, ConfigDump.class})
    static final class ConfigCommand {
        @ParentCommand
        Main main;
    }

    @Command(name = "default", description = "Print the full default configuration.")
    static final class ConfigDefault implements Callable<Integer> {
        @Override
        public Integer call() {
            System.out.print(ConfigPrinter.defaults());
            return 0;
        }
    }

    @Command(name = "dump", description = "Print the effective configuration (file and flags).")
    static final class ConfigDump implements Callable<Integer> {
        @ParentCommand
        ConfigCommand parent;

        @Override
        public Integer call() {
            System.out.print(ConfigPrinter.effective(parent.main.loadConfig().config()));
            return 0;
        }
    }
}
