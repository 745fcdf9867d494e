package io.jcontainerd.plugin;

import java.util.List;

/**
 * The service-provider hook through which each subsystem registers its plugins, listed in
 * {@code META-INF/services/io.jcontainerd.plugin.PluginProvider} next to its code. Providers only
 * describe; nothing heavy may happen before {@link Registration.Init#init} runs.
 */
public interface PluginProvider {
    List<Registration> registrations();
}
