package io.jcontainerd.client;

import static io.jcontainerd.client.ClientException.call;

import com.google.protobuf.Empty;
import io.grpc.Channel;
import io.jcontainerd.api.services.version.v1.VersionGrpc;

/** containerd.services.version.v1.Version. */
public final class VersionClient {
    private final VersionGrpc.VersionBlockingStub stub;

    VersionClient(Channel channel) {
        this.stub = VersionGrpc.newBlockingStub(channel);
    }

    public record Version(String version, String revision) {}

    public Version version() {
        var r = call(() -> stub.version(Empty.getDefaultInstance()));
        return new Version(r.getVersion(), r.getRevision());
    }
}
