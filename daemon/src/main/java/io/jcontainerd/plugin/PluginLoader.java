package io.jcontainerd.plugin;

import io.jcontainerd.config.Config;
import io.jcontainerd.config.ConfigDecoder;
import io.jcontainerd.events.Publisher;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;

/**
 * Orders registrations by their requirements and initializes them one by one, as containerd's server
 * does: a failing or skipped plugin is recorded and boot goes on, unless the config lists it as required.
 */
public final class PluginLoader {
    private static final Logger LOG = System.getLogger(PluginLoader.class.getName());

    private PluginLoader() {}

    /** Every registration the subsystems on the class path declare, in service-file order. */
    public static List<Registration> discover() {
        List<Registration> out = new ArrayList<>();
        for (PluginProvider p : ServiceLoader.load(PluginProvider.class)) out.addAll(p.registrations());
        return out;
    }

    /**
     * Dependency order: a plugin comes after every plugin of each type it requires; plugins requiring
     * {@code "*"} come after all the others. Otherwise registration order is kept.
     */
    public static List<Registration> order(List<Registration> regs) {
        List<Registration> plain = regs.stream().filter(r -> !r.requiresAll()).toList();
        List<Registration> last = regs.stream().filter(Registration::requiresAll).toList();
        // identity, not record equality: hashing a registration hashes its config record, and each record
        // class's first hashCode spins method handles (some 6 ms of every boot for nothing)
        List<Registration> ordered = new ArrayList<>();
        Set<Registration> done = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Registration r : plain) visit(r, plain, ordered, done, Collections.newSetFromMap(new IdentityHashMap<>()));
        for (Registration r : last) {
            if (done.add(r)) ordered.add(r);
        }
        return List.copyOf(ordered);
    }

    private static void visit(Registration r, List<Registration> all, List<Registration> ordered, Set<Registration> done,
                              Set<Registration> path) {
        if (done.contains(r)) return;
        if (!path.add(r)) throw new IllegalStateException("plugin dependency cycle through " + r.uri());
        for (String type : r.requires()) {
            for (Registration dep : all) {
                if (dep != r && dep.type().equals(type)) visit(dep, all, ordered, done, path);
            }
        }
        path.remove(r);
        done.add(r);
        ordered.add(r);
    }

    /** Called once per plugin with its outcome (for logs and metrics). */
    public interface Listener {
        void initialized(Plugin plugin);
    }

    /** Initializes the plugins the config does not disable; fails if a required plugin is not ok. */
    public static PluginSet load(List<Registration> regs, Config config, Publisher events, Clock clock, Listener listener) {
        PluginSet set = new PluginSet();
        for (Registration r : order(regs)) {
            if (config.disabledPlugins().contains(r.uri()) || config.disabledPlugins().contains(r.id())) {
                LOG.log(Level.INFO, "plugin {0} is disabled", r.uri());
                continue;
            }
            LOG.log(Level.DEBUG, "loading plugin {0}...", r.uri());
            long start = System.nanoTime();
            Plugin outcome;
            InitContext ic = null;
            try {
                Object cfg = r.defaultConfig() == null ? null
                        : ConfigDecoder.decodePlugin(config, r.uri(), r.defaultConfig(), w -> LOG.log(Level.WARNING, w));
                ic = new InitContext(r, config, cfg, events, set, clock);
                Object instance = r.init().init(ic);
                outcome = new Plugin(r, Plugin.Status.OK, instance, null, ic.exports(), ic.platforms(), System.nanoTime() - start);
            } catch (SkipPluginException e) {
                LOG.log(Level.INFO, "skip loading plugin {0}: {1}", r.uri(), e.getMessage());
                outcome = new Plugin(r, Plugin.Status.SKIP, null, e, Map.of(), ic == null ? List.of() : ic.platforms(), System.nanoTime() - start);
            } catch (Exception | LinkageError e) {
                LOG.log(Level.WARNING, "failed to load plugin " + r.uri() + ": " + e.getMessage(), e);
                outcome = new Plugin(r, Plugin.Status.ERROR, null, e, ic == null ? Map.of() : ic.exports(), ic == null ? List.of() : ic.platforms(), System.nanoTime() - start);
            }
            set.add(outcome);
            listener.initialized(outcome);
        }
        List<String> missing = new ArrayList<>();
        for (String required : config.requiredPlugins()) {
            Plugin p = set.all().stream().filter(x -> x.registration().uri().equals(required)).findFirst().orElse(null);
            if (p == null) missing.add(required + " (not loaded)");
            else if (!p.ok()) missing.add(required + " (" + p.status().name().toLowerCase() + ": " + p.error().getMessage() + ")");
        }
        if (!missing.isEmpty()) {
            closeAll(set);
            throw new IllegalStateException("required plugins not initialized: " + String.join(", ", missing));
        }
        return set;
    }

    /** Closes initialized instances in reverse init order; failures are logged, never thrown. */
    public static void closeAll(PluginSet set) {
        List<Plugin> all = new ArrayList<>(set.all());
        for (int i = all.size() - 1; i >= 0; i--) {
            Plugin p = all.get(i);
            if (p.ok() && p.instance() instanceof AutoCloseable c) {
                try {
                    c.close();
                } catch (Exception e) {
                    LOG.log(Level.WARNING, "closing plugin " + p.registration().uri() + ": " + e.getMessage(), e);
                }
            }
        }
    }
}
