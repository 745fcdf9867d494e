/**
 * Runtime-neutral task types shared by the task manager ({@link io.jcontainerd.runtime.v2}) and the
 * Tasks service: containerd's {@code runtime} package.
 */
package io.jcontainerd.runtime;
