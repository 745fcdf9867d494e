package io.jcontainerd.plugin;

import io.grpc.ServerServiceDefinition;

/** A plugin instance that serves a gRPC service; registered on the server once every plugin is up. */
public interface GrpcService {
    ServerServiceDefinition bindService();
}
