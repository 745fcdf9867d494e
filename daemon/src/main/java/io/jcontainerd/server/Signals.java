package io.jcontainerd.server;

import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * Signal handling, installed before anything else so no signal is missed during boot:
 * SIGTERM/SIGINT stop the daemon gracefully, SIGUSR1 dumps every thread's stack, SIGPIPE is ignored.
 */
public final class Signals {
    private Signals() {}

    public interface Handler {
        void shutdown(String signal);

        void dumpStacks();
    }

    public static void install(Handler handler) {
        SignalHandler stop = s -> handler.shutdown("SIG" + s.getName());
        Signal.handle(new Signal("TERM"), stop);
        Signal.handle(new Signal("INT"), stop);
        Signal.handle(new Signal("USR1"), s -> handler.dumpStacks());
        Signal.handle(new Signal("PIPE"), SignalHandler.SIG_IGN);
    }
}
