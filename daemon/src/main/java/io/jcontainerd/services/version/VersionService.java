package io.jcontainerd.services.version;

import com.google.protobuf.Empty;
import io.grpc.stub.StreamObserver;
import io.jcontainerd.api.services.version.v1.VersionGrpc;
import io.jcontainerd.api.services.version.v1.VersionResponse;
import io.jcontainerd.plugin.GrpcService;
import io.jcontainerd.plugin.PluginProvider;
import io.jcontainerd.plugin.PluginType;
import io.jcontainerd.plugin.Registration;
import io.jcontainerd.version.Version;
import java.util.List;

/** containerd.services.version.v1.Version: the daemon's version and revision. */
public final class VersionService extends VersionGrpc.VersionImplBase implements GrpcService {

    private static final VersionResponse RESPONSE =
            VersionResponse.newBuilder().setVersion(Version.VERSION).setRevision(Version.REVISION).build();

    @Override
    public void version(Empty request, StreamObserver<VersionResponse> out) {
        out.onNext(RESPONSE);
        out.onCompleted();
    }

    public static final class Provider implements PluginProvider {
        @Override
        public List<Registration> registrations() {
            return List.of(Registration.of(PluginType.GRPC, "version", List.of(), ic -> new VersionService()));
        }
    }
}
