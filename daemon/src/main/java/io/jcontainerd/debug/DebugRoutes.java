package io.jcontainerd.debug;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The debug listener's routes ({@code [debug] address}). containerd serves Go's pprof and expvar here;
 * these are the JVM's counterparts.
 */
public final class DebugRoutes {

    public static final String JSON = "application/json; charset=utf-8";

    private DebugRoutes() {}

    /** @param config renders the effective daemon configuration as TOML, on each request */
    public static Map<String, HttpEndpoint.Handler> routes(Supplier<String> config) {
        Map<String, HttpEndpoint.Handler> routes = new LinkedHashMap<>();
        routes.put("/debug/threads", _ -> HttpEndpoint.Response.text(ThreadDump.text()));
        routes.put("/debug/heap", _ -> HttpEndpoint.Response.text(JvmInfo.heap()));
        routes.put("/debug/config", _ -> HttpEndpoint.Response.text(config.get()));
        routes.put("/debug/vars", _ -> HttpEndpoint.Response.of(JSON, JvmInfo.vars()));
        String index = "jcontainerd debug endpoints:\n" + String.join("\n", routes.keySet()) + "\n";
        routes.put("/debug/", _ -> HttpEndpoint.Response.text(index));
        return routes;
    }
}
