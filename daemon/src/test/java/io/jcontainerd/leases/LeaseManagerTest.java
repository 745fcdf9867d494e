package io.jcontainerd.leases;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jcontainerd.errdefs.ContainerdException;
import io.jcontainerd.errdefs.ErrorKind;
import io.jcontainerd.metadata.GcTrigger;
import io.jcontainerd.metadata.MetadataDb;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LeaseManagerTest {
    @TempDir
    Path dir;
    MetadataDb db;
    LeaseManager leases;

    @BeforeEach
    void open() throws Exception {
        db = MetadataDb.open(dir, Clock.systemUTC());
        leases = new LeaseManager(db);
    }

    @AfterEach
    void close() throws Exception {
        db.close();
    }

    static void assertKind(ThrowingCallable call, ErrorKind kind) {
        assertThatThrownBy(call).isInstanceOfSatisfying(ContainerdException.class, e -> assertThat(e.kind()).isEqualTo(kind));
    }

    @Test
    void createListDeleteWithinANamespace() {
        Lease l = leases.create("ns", "l1", Map.of(Lease.EXPIRE_LABEL, "2030-01-01T00:00:00Z", "empty", ""));
        assertThat(l.id()).isEqualTo("l1");
        assertThat(l.labels()).containsOnly(Map.entry(Lease.EXPIRE_LABEL, "2030-01-01T00:00:00Z"));
        leases.create("ns", "l0", Map.of(Lease.FLAT_LABEL, "true"));
        assertThat(leases.list("ns", List.of())).extracting(Lease::id).containsExactly("l0", "l1");
        assertThat(leases.list("ns", List.of()).get(1).labels()).containsEntry(Lease.EXPIRE_LABEL, "2030-01-01T00:00:00Z");
        assertThat(leases.list("other", List.of())).isEmpty();
        assertThat(db.<Boolean>view(tx -> db.namespaces(tx).exists("ns"))).isTrue();

        assertKind(() -> leases.create("ns", "l1", Map.of()), ErrorKind.ALREADY_EXISTS);
        leases.delete("ns", "l1", false);
        assertKind(() -> leases.delete("ns", "l1", false), ErrorKind.NOT_FOUND);
        assertThat(leases.list("ns", List.of())).extracting(Lease::id).containsExactly("l0");
    }

    @Test
    void listFiltersOnIdAndLabels() {
        leases.create("ns", "a", Map.of("team", "x"));
        leases.create("ns", "b", Map.of("team", "y"));
        assertThat(leases.list("ns", List.of("id==a"))).extracting(Lease::id).containsExactly("a");
        assertThat(leases.list("ns", List.of("labels.team==y"))).extracting(Lease::id).containsExactly("b");
        assertThat(leases.list("ns", List.of("labels.team"))).hasSize(2);
        assertKind(() -> leases.list("ns", List.of("id==")), ErrorKind.INVALID_ARGUMENT);
    }

    @Test
    void generatedIdsLookLikeContainerds() {
        String id = LeaseManager.randomId(Instant.ofEpochSecond(5, 123456789), new Random(1));
        assertThat(id).matches("123456789-[A-Za-z0-9_-]{4}");
        Lease l = leases.create("ns", "", Map.of());
        assertThat(l.id()).matches("\\d+-[A-Za-z0-9_-]{4}");
        assertThat(leases.list("ns", List.of())).extracting(Lease::id).containsExactly(l.id());
    }

    @Test
    void resourcesUseContainerdTypesAndOrder() {
        leases.create("ns", "L", Map.of());
        String dgst = "sha256:" + "a".repeat(64);
        leases.addResource("ns", "L", new Resource("k2", "snapshots/overlayfs"));
        leases.addResource("ns", "L", new Resource("ref", "ingests"));
        leases.addResource("ns", "L", new Resource(dgst, "content"));
        leases.addResource("ns", "L", new Resource("k1", "snapshots/overlayfs"));
        leases.addResource("ns", "L", new Resource("k0", "snapshots/native"));
        leases.addResource("ns", "L", new Resource(dgst, "content"));
        assertThat(leases.listResources("ns", "L")).containsExactly(
                new Resource(dgst, "content"), new Resource("ref", "ingests"), new Resource("k0", "snapshots/native"),
                new Resource("k1", "snapshots/overlayfs"), new Resource("k2", "snapshots/overlayfs"));

        leases.deleteResource("ns", "L", new Resource("k1", "snapshots/overlayfs"));
        leases.deleteResource("ns", "L", new Resource("never", "ingests"));
        assertThat(leases.listResources("ns", "L")).hasSize(4);

        assertKind(() -> leases.addResource("ns", "L", new Resource("x", "content")), ErrorKind.INVALID_ARGUMENT);
        assertKind(() -> leases.addResource("ns", "L", new Resource("x", "content/extra")), ErrorKind.INVALID_ARGUMENT);
        assertKind(() -> leases.addResource("ns", "L", new Resource("x", "snapshots")), ErrorKind.INVALID_ARGUMENT);
        assertKind(() -> leases.addResource("ns", "L", new Resource("x", "images")), ErrorKind.NOT_IMPLEMENTED);
        assertKind(() -> leases.addResource("ns", "missing", new Resource("x", "ingests")), ErrorKind.NOT_FOUND);
        assertKind(() -> leases.listResources("ns", "missing"), ErrorKind.NOT_FOUND);

        // resources go with their lease
        leases.delete("ns", "L", false);
        leases.create("ns", "L", Map.of());
        assertThat(leases.listResources("ns", "L")).isEmpty();
    }

    @Test
    void syncDeleteWaitsForACollection() {
        List<String> calls = new ArrayList<>();
        db.setGcTrigger(new GcTrigger() {
            @Override
            public void collect(boolean wait) {
                calls.add("collect:" + wait);
            }

            @Override
            public void dirty() {
                calls.add("dirty");
            }
        });
        leases.create("ns", "a", Map.of());
        leases.create("ns", "b", Map.of());
        leases.delete("ns", "a", false);
        leases.delete("ns", "b", true);
        assertThat(calls).containsExactly("dirty", "dirty", "collect:true");
        // no collection is asked for when the lease did not exist
        assertKind(() -> leases.delete("ns", "b", true), ErrorKind.NOT_FOUND);
        assertThat(calls).hasSize(3);
    }
}
