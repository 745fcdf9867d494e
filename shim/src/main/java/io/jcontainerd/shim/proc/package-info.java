/**
 * Process spawning and reaping for the shim, owned by one component: {@link io.jcontainerd.shim.proc.Processes}.
 *
 * <h2>Why not {@code java.lang.Process}</h2>
 * The shim is a child subreaper: runc exits right after {@code create} and {@code exec --detach}, and the
 * container's init and exec processes are reparented to the shim, which must collect their exit statuses
 * and report them (TaskExit). Collecting the exit of a process the shim did not spawn needs
 * {@code waitid(P_ALL)}. But a {@code waitid(P_ALL)} loop also reaps children that {@code java.lang.Process}
 * spawned, and the JDK's own reaper, waiting on a specific pid, then finds nothing (ECHILD) and reports a
 * wrong status; the JDK reaper in turn can never see the reparented processes. Two reapers in one
 * process steal each other's exits. So there is exactly one: a platform thread blocked in
 * {@code waitid(P_ALL, WEXITED)} that hands every exit status to whoever registered interest in that
 * pid, and every child the shim creates (runc, logging binaries) is started here with posix_spawn through
 * FFM (glibc's posix_spawn uses {@code clone(CLONE_VM|CLONE_VFORK)}, so nothing of the JVM is copied).
 *
 * <h2>Races handled</h2>
 * <ul>
 *   <li>A spawned child may exit before its pid is recorded: spawning and recording happen under the
 *       lock the reaper takes to dispatch, so the reaper cannot dispatch that pid in between.</li>
 *   <li>A reparented process (container init, exec) may exit before the shim has read its pid from
 *       runc's pid file: exits nobody waits for are kept for a while and handed to the first
 *       {@link io.jcontainerd.shim.proc.Processes#claim claim} of that pid.</li>
 *   <li>{@code waitid} reports ECHILD while the shim has no children: the reaper then sleeps until the
 *       next spawn (descendants are only ever created through a spawn, and the kernel reparents
 *       orphans before their parent becomes reapable).</li>
 * </ul>
 */
package io.jcontainerd.shim.proc;
