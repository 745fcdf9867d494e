package io.jcontainerd.plugin;

import java.util.List;
import java.util.Map;

/** The outcome of initializing one plugin: its instance, or why it was skipped or failed. */
public record Plugin(Registration registration, Status status, Object instance, Throwable error,
                     Map<String, String> exports, List<Platform> platforms, long initNanos) {

    public enum Status { OK, SKIP, ERROR }

    public Plugin {
        exports = Map.copyOf(exports);
        platforms = List.copyOf(platforms);
    }

    public String type() {
        return registration.type();
    }

    public String id() {
        return registration.id();
    }

    public boolean ok() {
        return status == Status.OK;
    }
}
