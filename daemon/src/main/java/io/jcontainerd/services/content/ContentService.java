package io.jcontainerd.services.content;

import static io.jcontainerd.services.Unchecked.io;

import com.google.protobuf.Empty;
import com.google.protobuf.Timestamp;
import com.google.protobuf.UnsafeByteOperations;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.jcontainerd.api.events.ContentDelete;
import io.jcontainerd.api.services.content.v1.AbortRequest;
import io.jcontainerd.api.services.content.v1.ContentGrpc;
import io.jcontainerd.api.services.content.v1.DeleteContentRequest;
import io.jcontainerd.api.services.content.v1.InfoRequest;
import io.jcontainerd.api.services.content.v1.InfoResponse;
import io.jcontainerd.api.services.content.v1.ListContentRequest;
import io.jcontainerd.api.services.content.v1.ListContentResponse;
import io.jcontainerd.api.services.content.v1.ListStatusesRequest;
import io.jcontainerd.api.services.content.v1.ListStatusesResponse;
import io.jcontainerd.api.services.content.v1.ReadContentRequest;
import io.jcontainerd.api.services.content.v1.ReadContentResponse;
import io.jcontainerd.api.services.content.v1.StatusRequest;
import io.jcontainerd.api.services.content.v1.StatusResponse;
import io.jcontainerd.api.services.content.v1.UpdateRequest;
import io.jcontainerd.api.services.content.v1.UpdateResponse;
import io.jcontainerd.api.services.content.v1.WriteContentRequest;
import io.jcontainerd.api.services.content.v1.WriteContentResponse;
import io.jcontainerd.content.Digest;
import io.jcontainerd.content.Info;
import io.jcontainerd.content.ReaderAt;
import io.jcontainerd.content.Status;
import io.jcontainerd.errdefs.ContainerdException;
import io.jcontainerd.errdefs.Errdefs;
import io.jcontainerd.events.Publisher;
import io.jcontainerd.leases.Leases;
import io.jcontainerd.metadata.MetadataContent;
import io.jcontainerd.metadata.MetadataContentStore;
import io.jcontainerd.metadata.MetadataDb;
import io.jcontainerd.namespaces.Namespaces;
import io.jcontainerd.plugin.GrpcService;
import io.jcontainerd.plugin.PluginProvider;
import io.jcontainerd.protobuf.Timestamps;
import io.jcontainerd.plugin.PluginType;
import io.jcontainerd.plugin.Registration;
import io.jcontainerd.plugin.SkipPluginException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * containerd.services.content.v1.Content over the metadata content store, in the request's namespace
 * and lease. Message flow and response fields follow containerd's contentserver.
 */
public final class ContentService extends ContentGrpc.ContentImplBase implements GrpcService {
    private static final Logger LOG = System.getLogger(ContentService.class.getName());
    /** Blob infos per List response message. */
    static final int LIST_BATCH = 100;
    /** Bytes per Read response message. */
    static final int READ_CHUNK = 1 << 20;

    private final MetadataContent content;
    private final Publisher events;

    ContentService(MetadataContent content, Publisher events) {
        this.content = content;
        this.events = events;
    }

    private MetadataContentStore store() {
        return content.view(Namespaces.required(), Leases.fromContext());
    }

    @Override
    public void info(InfoRequest req, StreamObserver<InfoResponse> out) {
        Digest d = validated(req.getDigest(), "\"%s\" failed validation");
        Info info = io(() -> store().info(d));
        out.onNext(InfoResponse.newBuilder().setInfo(toProto(info)).build());
        out.onCompleted();
    }

    @Override
    public void update(UpdateRequest req, StreamObserver<UpdateResponse> out) {
        Digest d = validated(req.getInfo().getDigest(), "\"%s\" failed validation");
        Info wanted = new Info(d, req.getInfo().getSize(), null, null, req.getInfo().getLabelsMap());
        List<String> paths = req.hasUpdateMask() ? req.getUpdateMask().getPathsList() : List.of();
        Info info = io(() -> store().update(wanted, paths));
        out.onNext(UpdateResponse.newBuilder().setInfo(toProto(info)).build());
        out.onCompleted();
    }

    @Override
    public void list(ListContentRequest req, StreamObserver<ListContentResponse> out) {
        MetadataContentStore store = store();
        List<io.jcontainerd.api.services.content.v1.Info> batch = new ArrayList<>();
        io(() -> {
            store.walk(req.getFiltersList(), info -> {
                // List carries no updated_at, as containerd's
                batch.add(io.jcontainerd.api.services.content.v1.Info.newBuilder().setDigest(info.digest().toString())
                        .setSize(info.size()).setCreatedAt(ts(info.createdAt())).putAllLabels(info.labels()).build());
                if (batch.size() >= LIST_BATCH) {
                    out.onNext(ListContentResponse.newBuilder().addAllInfo(batch).build());
                    batch.clear();
                }
            });
            return null;
        });
        if (!batch.isEmpty()) out.onNext(ListContentResponse.newBuilder().addAllInfo(batch).build());
        out.onCompleted();
    }

    @Override
    public void delete(DeleteContentRequest req, StreamObserver<Empty> out) {
        String ns = Namespaces.required();
        Digest d = validated(req.getDigest(), "%s");
        io(() -> {
            content.view(ns, Leases.fromContext()).delete(d);
            return null;
        });
        events.publish(ns, "/content/delete", ContentDelete.newBuilder().setDigest(d.toString()).build());
        out.onNext(Empty.getDefaultInstance());
        out.onCompleted();
    }

    @Override
    public void read(ReadContentRequest req, StreamObserver<ReadContentResponse> out) {
        Digest d = validated(req.getDigest(), req.getDigest() + ": %s");
        // one metadata check (the blob is in this namespace), then the open blob knows its size
        ReaderAt ra = io(() -> store().readerAt(d));
        long blobSize = ra.size();
        long offset = Math.max(0, req.getOffset());
        if (offset > blobSize) {
            closeQuietly(ra);
            throw io.grpc.Status.OUT_OF_RANGE.withDescription("read past object length " + blobSize + " bytes").asRuntimeException();
        }
        long size = req.getSize();
        if (size <= 0 || offset + size > blobSize) size = blobSize - offset;
        long start = offset, end = offset + size;
        var call = (ServerCallStreamObserver<ReadContentResponse>) out;
        if (size <= READ_CHUNK) {
            // one message (a client's ReadAt): no need to wait for the transport, answer right here
            try (ra) {
                if (size > 0) call.onNext(chunk(ra, start, (int) size, start));
                call.onCompleted();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return;
        }
        // stream from our own thread, sending only as fast as the client takes it (the handler's
        // thread must return for onReady callbacks to be delivered)
        ReadyGate gate = new ReadyGate();
        call.setOnReadyHandler(gate::signal);
        call.setOnCancelHandler(gate::signal);
        Thread.ofVirtual().name("content-read").start(() -> {
            try (ra) {
                long pos = start;
                while (pos < end) {
                    gate.await(call);
                    if (call.isCancelled()) return;
                    int n = (int) Math.min(READ_CHUNK, end - pos);
                    call.onNext(chunk(ra, pos, n, start));
                    pos += n;
                }
                call.onCompleted();
            } catch (IOException | RuntimeException e) {
                if (!call.isCancelled()) call.onError(Errdefs.toGrpc(e));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
    }

    /** {@code n} bytes of the blob at {@code pos}; containerd numbers offsets from the start of the read. */
    private static ReadContentResponse chunk(ReaderAt ra, long pos, int n, long start) throws IOException {
        byte[] buf = new byte[n];
        ByteBuffer bb = ByteBuffer.wrap(buf);
        while (bb.hasRemaining()) {
            if (ra.readAt(bb, pos + bb.position()) < 0) {
                throw new IOException("blob ended at " + (pos + bb.position()) + ", expected " + (pos + n) + " bytes");
            }
        }
        // the array is never touched again: hand it over instead of copying it
        return ReadContentResponse.newBuilder().setOffset(pos - start).setData(UnsafeByteOperations.unsafeWrap(buf)).build();
    }

    /** Lets the reading thread sleep until the transport can take another message. */
    private static final class ReadyGate {
        private final Object lock = new Object();

        void signal() {
            synchronized (lock) {
                lock.notifyAll();
            }
        }

        void await(ServerCallStreamObserver<?> call) throws InterruptedException {
            synchronized (lock) {
                while (!call.isReady() && !call.isCancelled()) lock.wait(1000);
            }
        }
    }

    @Override
    public void status(StatusRequest req, StreamObserver<StatusResponse> out) {
        Status st;
        try {
            st = store().status(req.getRef());
        } catch (ContainerdException e) {
            throw new ContainerdException(e.kind(), "could not get status for ref \"" + req.getRef() + "\": " + e.getMessage());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        out.onNext(StatusResponse.newBuilder().setStatus(toProto(st)).build());
        out.onCompleted();
    }

    @Override
    public void listStatuses(ListStatusesRequest req, StreamObserver<ListStatusesResponse> out) {
        List<Status> statuses = io(() -> store().listStatuses(req.getFiltersList()));
        ListStatusesResponse.Builder resp = ListStatusesResponse.newBuilder();
        for (Status st : statuses) resp.addStatuses(toProto(st));
        out.onNext(resp.build());
        out.onCompleted();
    }

    @Override
    public void abort(AbortRequest req, StreamObserver<Empty> out) {
        io(() -> {
            store().abort(req.getRef());
            return null;
        });
        out.onNext(Empty.getDefaultInstance());
        out.onCompleted();
    }

    @Override
    public StreamObserver<WriteContentRequest> write(StreamObserver<WriteContentResponse> out) {
        return new WriteSession(store(), out);
    }

    // ---- helpers

    /** Parses a request digest; a bad one is InvalidArgument with {@code fmt} (given the digest, or the error). */
    private static Digest validated(String digest, String fmt) {
        try {
            return Digest.parse(digest);
        } catch (ContainerdException e) {
            String msg = fmt.contains("\"%s\"") ? fmt.formatted(digest) : fmt.formatted(e.getMessage());
            throw io.grpc.Status.INVALID_ARGUMENT.withDescription(msg).asRuntimeException();
        }
    }

    static void closeQuietly(AutoCloseable c) {
        if (c == null) return;
        try {
            c.close();
        } catch (Exception e) {
            LOG.log(Level.DEBUG, "close: " + e);
        }
    }

    static Timestamp ts(Instant t) {
        return t == null ? Timestamp.getDefaultInstance() : Timestamps.of(t);
    }

    private static io.jcontainerd.api.services.content.v1.Info toProto(Info info) {
        return io.jcontainerd.api.services.content.v1.Info.newBuilder().setDigest(info.digest().toString())
                .setSize(info.size()).setCreatedAt(ts(info.createdAt())).setUpdatedAt(ts(info.updatedAt()))
                .putAllLabels(info.labels()).build();
    }

    private static io.jcontainerd.api.services.content.v1.Status toProto(Status st) {
        var b = io.jcontainerd.api.services.content.v1.Status.newBuilder().setRef(st.ref()).setOffset(st.offset())
                .setTotal(st.total()).setStartedAt(ts(st.startedAt())).setUpdatedAt(ts(st.updatedAt()));
        if (st.expected() != null) b.setExpected(st.expected().toString());
        return b.build();
    }

    public static final class Provider implements PluginProvider {
        @Override
        public List<Registration> registrations() {
            return List.of(
                    // containerd's content-service: the metadata (namespaced) content store
                    Registration.of(PluginType.SERVICE, "content-service", List.of(PluginType.EVENT, PluginType.METADATA), ic -> {
                        MetadataDb db = ic.plugins().single(PluginType.METADATA, MetadataDb.class);
                        if (!db.hasContent()) throw new SkipPluginException("no content store plugin is available");
                        return db.content();
                    }),
                    Registration.of(PluginType.GRPC, "content", List.of(PluginType.SERVICE), ic -> {
                        Map<String, MetadataContent> found = ic.plugins().instancesOf(PluginType.SERVICE, MetadataContent.class);
                        MetadataContent c = found.get("content-service");
                        if (c == null) throw new SkipPluginException("content store service not found");
                        return new ContentService(c, ic.events());
                    }));
        }
    }
}
