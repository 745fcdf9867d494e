package io.jcontainerd.content;

import java.io.IOException;
import java.util.List;

/**
 * Content-addressed blobs and the ingests that produce them: containerd's content.Store. The same
 * interface serves the raw local store and the namespaced view the metadata layer gives each client.
 */
public interface ContentStore {

    /** NotFound if absent. */
    Info info(Digest digest) throws IOException;

    /**
     * Updates labels selected by {@code fieldpaths} ("labels", "labels.&lt;key&gt;"; empty = all labels).
     * A store without labels (the local store, as containerd's) is FailedPrecondition.
     */
    Info update(Info info, List<String> fieldpaths) throws IOException;

    @FunctionalInterface
    interface WalkFn {
        void accept(Info info) throws IOException;
    }

    /**
     * Calls {@code fn} for every blob matching any of {@code filters} (containerd filter syntax; fields
     * {@code digest} and {@code labels.<key>}, see {@link Info#adaptor()}).
     */
    void walk(List<String> filters, WalkFn fn) throws IOException;

    /** NotFound if absent. */
    void delete(Digest digest) throws IOException;

    /** NotFound if absent. */
    ReaderAt readerAt(Digest digest) throws IOException;

    /** NotFound if no ingest has this ref. */
    Status status(String ref) throws IOException;

    /** The ingests matching any of {@code filters} (field {@code ref}, see {@link Status#adaptor()}). */
    List<Status> listStatuses(List<String> filters) throws IOException;

    /** Removes an ingest's data; NotFound if none. */
    void abort(String ref) throws IOException;

    /**
     * Opens (or resumes) the ingest {@code ref}. Only one writer per ref at a time: a second open is
     * Unavailable ("ref &lt;ref&gt; locked for &lt;duration&gt; (since &lt;time&gt;): unavailable").
     * {@code total} and {@code expected} (nullable) are hints kept in the status; an ingest whose
     * expected blob already exists is AlreadyExists. An empty ref is InvalidArgument.
     */
    Writer writer(String ref, long total, Digest expected) throws IOException;
}
