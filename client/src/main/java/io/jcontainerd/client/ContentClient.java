package io.jcontainerd.client;

import static io.jcontainerd.client.ClientException.call;

import io.grpc.Channel;
import io.grpc.Context;
import io.grpc.StatusRuntimeException;
import io.jcontainerd.api.services.content.v1.AbortRequest;
import io.jcontainerd.api.services.content.v1.ContentGrpc;
import io.jcontainerd.api.services.content.v1.DeleteContentRequest;
import io.jcontainerd.api.services.content.v1.InfoRequest;
import io.jcontainerd.api.services.content.v1.ListContentRequest;
import io.jcontainerd.api.services.content.v1.ListContentResponse;
import io.jcontainerd.api.services.content.v1.ListStatusesRequest;
import io.jcontainerd.api.services.content.v1.StatusRequest;
import io.jcontainerd.api.services.content.v1.UpdateRequest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/** containerd.services.content.v1.Content: blob info, labels, reading and resumable writing. */
public final class ContentClient {
    private final Channel channel;
    private final ContentGrpc.ContentBlockingStub stub;

    ContentClient(Channel channel) {
        this.channel = channel;
        this.stub = ContentGrpc.newBlockingStub(channel);
    }

    public record Info(String digest, long size, Instant createdAt, Instant updatedAt, Map<String, String> labels) {}

    /** An ingest in progress: how far it got, for resuming. */
    public record Status(String ref, long offset, long total, String expected, Instant startedAt, Instant updatedAt) {}

    static Info of(io.jcontainerd.api.services.content.v1.Info i) {
        return new Info(i.getDigest(), i.getSize(), Protos.instant(i.getCreatedAt()), Protos.instant(i.getUpdatedAt()),
                Map.copyOf(i.getLabelsMap()));
    }

    static Status of(io.jcontainerd.api.services.content.v1.Status s) {
        return new Status(s.getRef(), s.getOffset(), s.getTotal(), s.getExpected(), Protos.instant(s.getStartedAt()),
                Protos.instant(s.getUpdatedAt()));
    }

    public Info info(String digest) {
        return of(call(() -> stub.info(InfoRequest.newBuilder().setDigest(digest).build())).getInfo());
    }

    /** True when the blob is in this namespace. */
    public boolean exists(String digest) {
        try {
            info(digest);
            return true;
        } catch (ClientException e) {
            if (e.isNotFound()) return false;
            throw e;
        }
    }

    /**
     * Updates labels: {@code fields} are {@code labels.<key>} paths (an absent or empty value removes
     * that key) or {@code labels} to replace them all.
     */
    public Info update(String digest, Map<String, String> labels, String... fields) {
        var info = io.jcontainerd.api.services.content.v1.Info.newBuilder().setDigest(digest).putAllLabels(labels);
        return of(call(() -> stub.update(UpdateRequest.newBuilder().setInfo(info)
                .setUpdateMask(Protos.mask(List.of(fields))).build())).getInfo());
    }

    /** Sets one label (empty value: removes it). */
    public Info setLabel(String digest, String key, String value) {
        return update(digest, value == null || value.isEmpty() ? Map.of() : Map.of(key, value), "labels." + key);
    }

    public List<Info> list(String... filters) {
        return call(() -> {
            List<Info> out = new ArrayList<>();
            Iterator<ListContentResponse> it = stub.list(ListContentRequest.newBuilder().addAllFilters(List.of(filters)).build());
            it.forEachRemaining(r -> r.getInfoList().forEach(i -> out.add(of(i))));
            return out;
        });
    }

    public void delete(String digest) {
        call(() -> stub.delete(DeleteContentRequest.newBuilder().setDigest(digest).build()));
    }

    /** A reader with random access over a committed blob. */
    public ContentReader reader(String digest) {
        return new ContentReader(channel, info(digest));
    }

    /** The whole blob (for manifests and configs; use {@link #reader} for layers). */
    public byte[] read(String digest) {
        try (ContentReader r = reader(digest)) {
            return r.readAll();
        }
    }

    public Status status(String ref) {
        return of(call(() -> stub.status(StatusRequest.newBuilder().setRef(ref).build())).getStatus());
    }

    public List<Status> statuses(String... filters) {
        return call(() -> stub.listStatuses(ListStatusesRequest.newBuilder().addAllFilters(List.of(filters)).build()))
                .getStatusesList().stream().map(ContentClient::of).toList();
    }

    public void abort(String ref) {
        call(() -> stub.abort(AbortRequest.newBuilder().setRef(ref).build()));
    }

    /**
     * Opens (and locks) the ingest {@code ref}. An existing partial ingest is resumed: continue
     * writing at {@link ContentWriter#offset()}. When {@code expected} is already stored the
     * call fails with AlreadyExists.
     */
    public ContentWriter writer(String ref, long total, String expected) {
        return ContentWriter.open(channel, ref, total, expected);
    }

    /** Writes and commits {@code data} under {@code ref}; an existing blob counts as written. Returns its digest. */
    public String write(String ref, byte[] data, String expected, Map<String, String> labels) {
        try (ContentWriter w = writer(ref, data.length, expected)) {
            // a blob the daemon already has (another namespace) reports its full size: just commit
            if (w.offset() != data.length) {
                if (w.offset() > 0) w.truncate();
                w.write(data, 0, data.length);
            }
            return w.commit(data.length, expected, labels);
        } catch (ClientException e) {
            if (e.isAlreadyExists() && expected != null && !expected.isEmpty()) return expected;
            throw e;
        }
    }

    /** Runs a server-streaming call in a cancellable context so iterators can be abandoned. */
    static <T> T cancellable(Context.CancellableContext ctx, java.util.function.Supplier<T> body) {
        Context prev = ctx.attach();
        try {
            return body.get();
        } catch (StatusRuntimeException e) {
            throw ClientException.from(e);
        } finally {
            ctx.detach(prev);
        }
    }
}
