package io.jcontainerd.client;

import com.google.protobuf.FieldMask;
import com.google.protobuf.Timestamp;
import java.time.Instant;
import java.util.List;

/** Conversions shared by the service clients. */
final class Protos {
    private Protos() {}

    static Instant instant(Timestamp t) {
        return t == null || (t.getSeconds() == 0 && t.getNanos() == 0) ? null : Instant.ofEpochSecond(t.getSeconds(), t.getNanos());
    }

    static Timestamp timestamp(Instant i) {
        return Timestamp.newBuilder().setSeconds(i.getEpochSecond()).setNanos(i.getNano()).build();
    }

    static FieldMask mask(List<String> paths) {
        return FieldMask.newBuilder().addAllPaths(paths).build();
    }
}
