/**
 * Garbage collection of metadata and backend data, containerd's {@code gc} and {@code metadata/gc.go}.
 *
 * <p>{@link io.jcontainerd.gc.GarbageCollector} marks from the roots every registered {@link
 * io.jcontainerd.gc.GcResource} reports and sweeps what is unreachable, in one metadata write
 * transaction; {@link io.jcontainerd.gc.BackendCleanup}s then delete backend data nothing names any
 * more. {@link io.jcontainerd.gc.GcLabels} reads the {@code containerd.io/gc.*} labels.
 *
 * <p>Resources that exist so far: {@link io.jcontainerd.gc.LeaseGcResource}, {@link
 * io.jcontainerd.gc.ContentGcResource}, {@link io.jcontainerd.gc.IngestGcResource}, and {@link
 * io.jcontainerd.gc.ContentBackendCleanup}. The ones still to come, with containerd's semantics:
 * <ul>
 *   <li>images ({@code IMAGE}): roots only, never collected: each image reports its target digest as a
 *       content node and its labels' references ({@link io.jcontainerd.gc.GcLabels#references});</li>
 *   <li>containers ({@code CONTAINER}): roots only: the snapshot {@code <snapshotter>/<snapshot key>}
 *       when the container has one, and its labels' references (not its image);</li>
 *   <li>snapshots ({@code SNAPSHOT}, key {@code <snapshotter>/<key>}): a snapshot labelled
 *       {@code containerd.io/gc.root} is a root; references are the parent (same snapshotter, passed on
 *       with the same flatness) and, unless reached flat, its labels' references; unreachable ones are
 *       removed; one {@code BackendCleanup} per snapshotter, {@code affectedBy} snapshot nodes whose
 *       {@link io.jcontainerd.gc.Node#snapshotter()} is its name, removing backend snapshots that no
 *       namespace's metadata names. Leases already report {@code snapshots/<snapshotter>} resources.</li>
 * </ul>
 * Register them in {@code io.jcontainerd.gc.scheduler.SchedulerPlugin} (or from the owning plugin
 * through {@code Gc.collector()}).
 */
package io.jcontainerd.gc;
