package io.jcontainerd.plugin;

/** Thrown by an init to say the plugin does not apply here (status {@code skip}), with the reason. */
public final class SkipPluginException extends Exception {
    public SkipPluginException(String reason) {
        super(reason);
    }
}
