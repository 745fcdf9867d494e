/**
 * containerd's restart monitor ({@code io.containerd.internal.v1.restart}): keeps the task of every
 * container labeled {@code containerd.io/restart.status} in that status, restarting or stopping it in
 * process through the metadata store and the runtime v2 task manager.
 */
package io.jcontainerd.runtime.restart;
