package io.jcontainerd.gc;

import io.jcontainerd.content.ContentStore;
import io.jcontainerd.content.Digest;
import io.jcontainerd.content.Info;
import io.jcontainerd.content.Status;
import io.jcontainerd.errdefs.ContainerdException;
import io.jcontainerd.errdefs.ErrorKind;
import io.jcontainerd.metadata.MetadataDb;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Deletes from the backend (shared, un-namespaced) content store every blob that no namespace's
 * {@code content} row nor any ingest's {@code expected} names, and aborts every backend ingest whose
 * ref is no {@code ingests.backend_ref}. It works inside a metadata read transaction: the metadata
 * store creates backend blobs and ingests inside the write transaction that records them, and the
 * database admits one transaction at a time, so nothing can appear in the backend half-recorded while
 * this runs.
 */
public final class ContentBackendCleanup implements BackendCleanup {
    private static final Logger LOG = System.getLogger(ContentBackendCleanup.class.getName());

    private final ContentStore backend;

    public ContentBackendCleanup(ContentStore backend) {
        this.backend = backend;
    }

    @Override
    public String name() {
        return "content";
    }

    @Override
    public boolean affectedBy(Node removed) {
        return removed.type().equals(ResourceType.CONTENT) || removed.type().equals(ResourceType.INGEST);
    }

    @Override
    public void cleanup(MetadataDb db) throws IOException {
        try {
            db.view(tx -> {
                Set<String> blobs = new HashSet<>();
                for (String[] r : Sql.rows(tx, "SELECT DISTINCT digest FROM content")) blobs.add(r[0]);
                for (String[] r : Sql.rows(tx, "SELECT DISTINCT expected FROM ingests WHERE expected IS NOT NULL")) {
                    blobs.add(r[0]);
                }
                Set<String> ingests = new HashSet<>();
                for (String[] r : Sql.rows(tx, "SELECT backend_ref FROM ingests WHERE backend_ref IS NOT NULL")) {
                    ingests.add(r[0]);
                }
                try {
                    sweep(blobs, ingests);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                return null;
            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    private void sweep(Set<String> blobs, Set<String> ingests) throws IOException {
        List<Digest> garbage = new ArrayList<>();
        backend.walk(List.of(), (Info info) -> {
            if (!blobs.contains(info.digest().toString())) garbage.add(info.digest());
        });
        for (Digest d : garbage) {
            try {
                backend.delete(d);
                LOG.log(Level.DEBUG, "removed content {0}", d);
            } catch (ContainerdException e) {
                if (!e.is(ErrorKind.NOT_FOUND)) throw e;
            }
        }
        for (Status s : backend.listStatuses(List.of())) {
            if (ingests.contains(s.ref())) continue;
            try {
                backend.abort(s.ref());
                LOG.log(Level.DEBUG, "cleanup aborting ingest {0}", s.ref());
            } catch (ContainerdException e) {
                if (!e.is(ErrorKind.NOT_FOUND)) throw e;
            }
        }
    }
}
