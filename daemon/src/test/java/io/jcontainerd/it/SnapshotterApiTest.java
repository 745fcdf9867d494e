package io.jcontainerd.it;

import static io.jcontainerd.testing.SnapshotClient.LAYER_TAR;
import static io.jcontainerd.testing.SnapshotClient.LAYER_TAR_GZIP;
import static io.jcontainerd.testing.SnapshotClient.codeOf;
import static io.jcontainerd.testing.SnapshotClient.withMounted;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import io.grpc.Context;
import io.grpc.Status.Code;
import io.grpc.stub.StreamObserver;
import io.jcontainerd.api.events.SnapshotCommit;
import io.jcontainerd.api.events.SnapshotPrepare;
import io.jcontainerd.api.events.SnapshotRemove;
import io.jcontainerd.api.services.events.v1.Envelope;
import io.jcontainerd.api.services.events.v1.EventsGrpc;
import io.jcontainerd.api.services.events.v1.PublishRequest;
import io.jcontainerd.api.services.events.v1.SubscribeRequest;
import io.jcontainerd.api.services.snapshots.v1.Info;
import io.jcontainerd.api.services.snapshots.v1.Kind;
import io.jcontainerd.api.services.snapshots.v1.StatSnapshotRequest;
import io.jcontainerd.api.types.Mount;
import io.jcontainerd.testing.BtrfsVolume;
import io.jcontainerd.testing.DaemonProcess;
import io.jcontainerd.testing.SnapshotClient;
import io.jcontainerd.testing.TarBuilder;
import io.jcontainerd.testing.TreeListing;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The snapshotter acceptance suite through the gRPC API of a real daemon, for overlayfs, native and btrfs
 * (the daemon's btrfs root is a loop volume made here): the snapshot model and its error codes, List
 * filters, Usage, Update, events, 128 layers applied through the Diff service, and file contents and
 * metadata across layers. Layers are mounted in this process, as a client would.
 */
class SnapshotterApiTest {
    static BtrfsVolume volume;
    static DaemonProcess daemon;
    static Path work;

    @BeforeAll
    static void start() throws Exception {
        work = Files.createTempDirectory(Path.of("/tmp"), "jcsa");
        volume = BtrfsVolume.create("1G");
        daemon = DaemonProcess.start("""
                version = 2
                [plugins."io.containerd.snapshotter.v1.btrfs"]
                  root_path = "%s"
                """.formatted(volume.mountPoint()));
    }

    @AfterAll
    static void stop() {
        try {
            if (daemon != null) daemon.close();
        } finally {
            DaemonProcess.Cleanup.unmountUnder(work);
            DaemonProcess.Cleanup.deleteTree(work);
            if (volume != null) volume.close(); // after the daemon: it holds the volume's snapshots open
        }
    }

    static SnapshotClient client(String test, String sn) {
        return new SnapshotClient(daemon, sn, test + "-" + sn);
    }

    @ParameterizedTest
    @ValueSource(strings = {"overlayfs", "native", "btrfs"})
    void snapshotModelErrorCodesAndEvents(String sn) throws Exception {
        SnapshotClient c = client("model", sn);
        try (Events events = Events.subscribe(c.namespace())) {
            List<Mount> mounts = c.prepare("base-active", "", Map.of("stage", "one"));
            assertThat(mounts).isNotEmpty();
            assertThat(c.mounts("base-active")).isEqualTo(mounts);
            Info active = c.stat("base-active");
            assertThat(active.getKind()).isEqualTo(Kind.ACTIVE);
            assertThat(active.getParent()).isEmpty();
            assertThat(active.getLabelsMap()).containsEntry("stage", "one");

            assertThat(codeOf(() -> c.prepare("base-active", ""))).isEqualTo(Code.ALREADY_EXISTS);
            assertThat(codeOf(() -> c.prepare("orphan", "no-such-parent"))).isEqualTo(Code.NOT_FOUND);
            assertThat(codeOf(() -> c.prepare("on-active", "base-active"))).isEqualTo(Code.INVALID_ARGUMENT);
            assertThat(codeOf(() -> c.view("view-on-active", "base-active"))).isEqualTo(Code.INVALID_ARGUMENT);
            assertThat(codeOf(() -> c.stat("missing"))).isEqualTo(Code.NOT_FOUND);
            assertThat(codeOf(() -> c.mounts("missing"))).isEqualTo(Code.NOT_FOUND);
            assertThat(codeOf(() -> c.remove("missing"))).isEqualTo(Code.NOT_FOUND);
            assertThat(codeOf(() -> c.usage("missing"))).isEqualTo(Code.NOT_FOUND);
            assertThat(codeOf(() -> c.commit("x", "missing"))).isEqualTo(Code.NOT_FOUND);

            // commit: the active key goes, the name appears, committed
            c.commit("base", "base-active", Map.of("stage", "committed"));
            assertThat(codeOf(() -> c.stat("base-active"))).isEqualTo(Code.NOT_FOUND);
            Info base = c.stat("base");
            assertThat(base.getKind()).isEqualTo(Kind.COMMITTED);
            assertThat(base.getLabelsMap()).containsEntry("stage", "committed");
            assertThat(codeOf(() -> c.commit("again", "base-active"))).isEqualTo(Code.NOT_FOUND);
            // a committed snapshot has no mounts of its own
            assertThat(codeOf(() -> c.mounts("base"))).isEqualTo(Code.FAILED_PRECONDITION);

            c.prepare("second-active", "");
            assertThat(codeOf(() -> c.commit("base", "second-active"))).isEqualTo(Code.ALREADY_EXISTS);
            assertThat(c.stat("second-active").getKind()).isEqualTo(Kind.ACTIVE); // the failed commit changed nothing

            c.view("look", "base");
            Info view = c.stat("look");
            assertThat(view.getKind()).isEqualTo(Kind.VIEW);
            assertThat(view.getParent()).isEqualTo("base");
            assertThat(codeOf(() -> c.commit("from-view", "look"))).isEqualTo(Code.FAILED_PRECONDITION);
            assertThat(codeOf(() -> c.view("look", "base"))).isEqualTo(Code.ALREADY_EXISTS);

            c.prepare("child", "base");
            assertThat(c.stat("child").getParent()).isEqualTo("base");
            assertThat(codeOf(() -> c.remove("base"))).isEqualTo(Code.FAILED_PRECONDITION);
            c.remove("child");
            assertThat(codeOf(() -> c.remove("base"))).as("the view is a child too").isEqualTo(Code.FAILED_PRECONDITION);
            c.remove("look");
            c.remove("base");
            c.remove("second-active");
            assertThat(codeOf(() -> c.stat("base"))).isEqualTo(Code.NOT_FOUND);
            assertThat(c.list()).isEmpty();

            // a snapshotter that is not loaded, or none named
            SnapshotClient bogus = new SnapshotClient(daemon, "no-such-snapshotter", c.namespace());
            assertThat(codeOf(() -> bogus.prepare("x", ""))).isEqualTo(Code.INVALID_ARGUMENT);
            assertThat(codeOf(() -> c.snapshots().stat(StatSnapshotRequest.newBuilder().setKey("x").build())))
                    .isEqualTo(Code.INVALID_ARGUMENT);

            // only successful prepare, commit and remove publish, each naming the snapshotter (views do not)
            List<Message> got = events.awaitCount(9, Duration.ofSeconds(10));
            assertThat(got).containsExactly(
                    SnapshotPrepare.newBuilder().setKey("base-active").setSnapshotter(sn).build(),
                    SnapshotCommit.newBuilder().setKey("base-active").setName("base").setSnapshotter(sn).build(),
                    SnapshotPrepare.newBuilder().setKey("second-active").setSnapshotter(sn).build(),
                    SnapshotPrepare.newBuilder().setKey("child").setParent("base").setSnapshotter(sn).build(),
                    SnapshotRemove.newBuilder().setKey("child").setSnapshotter(sn).build(),
                    SnapshotRemove.newBuilder().setKey("look").setSnapshotter(sn).build(),
                    SnapshotRemove.newBuilder().setKey("base").setSnapshotter(sn).build(),
                    SnapshotRemove.newBuilder().setKey("second-active").setSnapshotter(sn).build(),
                    events.marker());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"overlayfs", "native", "btrfs"})
    void listFiltersUsageAndLabelUpdates(String sn) throws Exception {
        SnapshotClient c = client("walk", sn);
        List<Mount> rootMounts = c.prepare("root-active", "");
        assertThat(c.usage("root-active").getSize()).isLessThan(64 * 1024);
        withMounted(rootMounts, work, mnt -> {
            Files.write(mnt.resolve("blob"), new byte[256 * 1024]);
            Files.createDirectories(mnt.resolve("a/b"));
            Files.writeString(mnt.resolve("a/b/c"), "c");
        });
        var activeUsage = c.usage("root-active");
        assertThat(activeUsage.getSize()).isGreaterThanOrEqualTo(256 * 1024);
        assertThat(activeUsage.getInodes()).isGreaterThanOrEqualTo(4); // blob, a, a/b, a/b/c
        c.commit("root", "root-active", Map.of("team", "storage"));
        var committedUsage = c.usage("root");
        assertThat(committedUsage.getSize()).isGreaterThanOrEqualTo(256 * 1024);
        assertThat(committedUsage.getInodes()).isGreaterThanOrEqualTo(4);

        c.prepare("kid-active", "root", Map.of("team", "apps"));
        c.view("kid-view", "root");
        c.prepare("loner", "", Map.of("team", "apps", "tier", "gold"));

        assertThat(c.list()).containsExactlyInAnyOrder("root", "kid-active", "kid-view", "loner");
        assertThat(c.list("kind==committed")).containsExactly("root");
        assertThat(c.list("kind==active")).containsExactlyInAnyOrder("kid-active", "loner");
        assertThat(c.list("parent==root")).containsExactlyInAnyOrder("kid-active", "kid-view");
        assertThat(c.list("labels.team==storage")).containsExactly("root");
        assertThat(c.list("labels.tier")).containsExactly("loner");
        assertThat(c.list("name~=^kid")).containsExactlyInAnyOrder("kid-active", "kid-view");
        // one filter's comma-separated terms must all hold; separate filters are alternatives
        assertThat(c.list("labels.team==apps,parent==root")).containsExactly("kid-active");
        assertThat(c.list("kind==view", "labels.tier==gold")).containsExactlyInAnyOrder("kid-view", "loner");
        assertThat(c.list("kind==view,kind==active")).isEmpty();

        // Update: a mask of labels.<key> sets (or, absent from the request, removes) just those keys
        Info before = c.stat("root");
        Thread.sleep(5);
        Info u1 = c.update("root", Map.of("team", "infra", "ignored", "x"), "labels.team", "labels.owner");
        assertThat(u1.getLabelsMap()).containsExactly(Map.entry("team", "infra"));
        assertThat(nanos(u1.getUpdatedAt())).isGreaterThan(nanos(before.getUpdatedAt()));
        assertThat(u1.getCreatedAt()).isEqualTo(before.getCreatedAt());
        assertThat(c.update("root", Map.of("owner", "me"), "labels.owner").getLabelsMap())
                .containsOnly(Map.entry("team", "infra"), Map.entry("owner", "me"));
        assertThat(c.update("root", Map.of(), "labels.team").getLabelsMap()).containsOnly(Map.entry("owner", "me"));
        // "labels", or no mask at all: the labels are replaced
        assertThat(c.update("root", Map.of("a", "1"), "labels").getLabelsMap()).containsOnly(Map.entry("a", "1"));
        assertThat(c.update("root", Map.of("b", "2")).getLabelsMap()).containsOnly(Map.entry("b", "2"));
        assertThat(c.stat("root").getLabelsMap()).containsOnly(Map.entry("b", "2"));
        assertThat(c.list("labels.b==2")).containsExactly("root");
        assertThat(codeOf(() -> c.update("root", Map.of(), "parent"))).isEqualTo(Code.INVALID_ARGUMENT);
        assertThat(codeOf(() -> c.update("missing", Map.of("a", "1")))).isEqualTo(Code.NOT_FOUND);
        assertThat(codeOf(() -> c.update("", Map.of("a", "1")))).isEqualTo(Code.INVALID_ARGUMENT);
        // labels of actives and views update alike
        assertThat(c.update("kid-view", Map.of("seen", "yes"), "labels.seen").getLabelsMap()).containsEntry("seen", "yes");
        assertThat(c.stat("kid-view").getKind()).isEqualTo(Kind.VIEW);

        for (String k : List.of("kid-active", "kid-view", "loner", "root")) c.remove(k);
        assertThat(c.list()).isEmpty();
    }

    /** 128 layers, each applied through Diff.Apply and committed; a view of the top is mounted and checked. */
    @ParameterizedTest
    @ValueSource(strings = {"overlayfs", "native", "btrfs"})
    void hundredTwentyEightLayers(String sn) throws Exception {
        SnapshotClient c = client("deep", sn);
        int layers = 128;
        String parent = "";
        for (int i = 1; i <= layers; i++) {
            TarBuilder t = new TarBuilder().dir("layers").file("layers/" + i, "layer " + i).file("top", "top is " + i);
            if (i % 10 == 0) t.whiteout("layers/" + (i - 1)); // every tenth layer deletes the one below's file
            boolean gzip = i % 2 == 0;
            String key = "layer-" + i + "-active";
            var applied = c.apply(gzip ? t.tarGz() : t.tar(), gzip ? LAYER_TAR_GZIP : LAYER_TAR, c.prepare(key, parent));
            assertThat(applied.getDigest()).isEqualTo(io.jcontainerd.testing.ContentUpload.sha256(t.tar()));
            c.commit("layer-" + i, key);
            parent = "layer-" + i;
        }
        List<Mount> top = c.view("top", parent);
        if (sn.equals("overlayfs")) {
            assertThat(top).singleElement().satisfies(m -> assertThat(m.getType()).isEqualTo("overlay"));
            String lower = top.getFirst().getOptionsList().stream().filter(o -> o.startsWith("lowerdir=")).findFirst().orElseThrow();
            assertThat(lower.split(":")).hasSize(layers);
        }
        withMounted(top, work, mnt -> {
            assertThat(mnt.resolve("top")).hasContent("top is " + layers);
            for (int i = 1; i <= layers; i++) {
                Path f = mnt.resolve("layers/" + i);
                if (i % 10 == 9) assertThat(f).as("whited out by layer %d", i + 1).doesNotExist();
                else assertThat(f).hasContent("layer " + i);
            }
            try (var s = Files.list(mnt.resolve("layers"))) {
                assertThat(s.count()).isEqualTo(layers - layers / 10);
            }
            assertThat(canWrite(mnt)).as("a view is read-only").isFalse();
        });
        // an active snapshot on top mounts too, and its writes stay in it
        withMounted(c.prepare("work", parent), work, mnt -> {
            Files.writeString(mnt.resolve("top"), "changed");
            assertThat(mnt.resolve("layers/1")).hasContent("layer 1");
        });
        withMounted(c.mounts("top"), work, mnt -> assertThat(mnt.resolve("top")).hasContent("top is " + layers));
        c.remove("work");
        c.remove("top");
        assertThat(codeOf(() -> c.remove("layer-1"))).isEqualTo(Code.FAILED_PRECONDITION);
        for (int i = layers; i >= 1; i--) c.remove("layer-" + i);
        assertThat(c.list()).isEmpty();
    }

    private static boolean canWrite(Path dir) {
        try {
            Files.delete(Files.createFile(dir.resolve("probe")));
            return true;
        } catch (java.io.IOException e) {
            return false;
        }
    }

    /**
     * A file changed, a directory removed (by a whiteout in a layer), ownership and modes changed through a
     * mounted active snapshot, a file deleted: all as expected in a view of the top, and the parent untouched.
     */
    @ParameterizedTest
    @ValueSource(strings = {"overlayfs", "native", "btrfs"})
    void contentsAndMetadataAcrossLayers(String sn) throws Exception {
        SnapshotClient c = client("meta", sn);
        TarBuilder base = new TarBuilder()
                .dir("etc").file("etc/config", "v1")
                .dir("data").dir("data/sub").file("data/sub/deep", "deep")
                .file("owned.txt", "mine".getBytes(), 0644, 0, 0)
                .dir("bin").file("bin/tool", "#!/bin/sh\n".getBytes(), 0755, 0, 0)
                .file("gone.txt", "soon deleted")
                .dir("private", 0700, 42, 43);
        c.apply(base.tarGz(), LAYER_TAR_GZIP, c.prepare("l1-active", ""));
        c.commit("l1", "l1-active");

        // layer 2: changed by a "container" through its mounted active snapshot
        withMounted(c.prepare("l2-active", "l1"), work, mnt -> {
            assertThat(mnt.resolve("etc/config")).hasContent("v1");
            Files.writeString(mnt.resolve("etc/config"), "v2");
            run("chown", "1234:5678", mnt.resolve("owned.txt").toString());
            run("chmod", "0600", mnt.resolve("owned.txt").toString());
            run("chmod", "4750", mnt.resolve("bin/tool").toString());
            run("chown", "7:8", mnt.resolve("private").toString());
            Files.delete(mnt.resolve("gone.txt"));
            Files.createDirectories(mnt.resolve("var/log"));
            run("chmod", "1777", mnt.resolve("var/log").toString());
        });
        c.commit("l2", "l2-active");

        // layer 3: a directory removed by a whiteout, applied through the Diff service
        c.apply(new TarBuilder().whiteout("data").file("etc/motd", "hi").tar(), LAYER_TAR, c.prepare("l3-active", "l2"));
        c.commit("l3", "l3-active");

        // layer 4: unrelated; what was deleted below must not come back
        c.apply(new TarBuilder().file("l4.txt", "4").tar(), LAYER_TAR, c.prepare("l4-active", "l3"));
        c.commit("l4", "l4-active");

        withMounted(c.view("l4-view", "l4"), work, mnt -> {
            assertThat(mnt.resolve("etc/config")).hasContent("v2");
            assertThat(mnt.resolve("etc/motd")).hasContent("hi");
            assertThat(mnt.resolve("l4.txt")).hasContent("4");
            assertThat(mnt.resolve("data")).doesNotExist();
            assertThat(mnt.resolve("gone.txt")).doesNotExist();
            assertThat(attr(mnt.resolve("owned.txt"), "uid")).isEqualTo(1234);
            assertThat(attr(mnt.resolve("owned.txt"), "gid")).isEqualTo(5678);
            assertThat(attr(mnt.resolve("owned.txt"), "mode")).isEqualTo(0100600);
            assertThat(attr(mnt.resolve("bin/tool"), "mode")).isEqualTo(0104750);
            assertThat(attr(mnt.resolve("private"), "uid")).isEqualTo(7);
            assertThat(attr(mnt.resolve("private"), "mode")).isEqualTo(040700);
            assertThat(attr(mnt.resolve("var/log"), "mode")).isEqualTo(041777);
            try (var s = Files.list(mnt)) {
                assertThat(s.map(p -> p.getFileName().toString()).toList())
                        .containsExactlyInAnyOrder("etc", "owned.txt", "bin", "private", "var", "l4.txt");
            }
        });
        // the first layer is what it was
        withMounted(c.view("l1-view", "l1"), work, mnt -> {
            assertThat(mnt.resolve("etc/config")).hasContent("v1");
            assertThat(mnt.resolve("data/sub/deep")).hasContent("deep");
            assertThat(mnt.resolve("gone.txt")).exists();
            assertThat(attr(mnt.resolve("owned.txt"), "uid")).isEqualTo(0);
            assertThat(attr(mnt.resolve("owned.txt"), "mode")).isEqualTo(0100644);
            assertThat(attr(mnt.resolve("private"), "uid")).isEqualTo(42);
            assertThat(attr(mnt.resolve("private"), "gid")).isEqualTo(43);
        });
        for (String k : List.of("l4-view", "l1-view", "l4", "l3", "l2", "l1")) c.remove(k);
    }

    /** A version 2 security.capability value: effective, permitted CAP_NET_BIND_SERVICE. */
    static final byte[] NET_BIND_SERVICE = {1, 0, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};

    /**
     * Diff.Diff of a prepared-and-modified snapshot against a view of its parent, then Diff.Apply of that
     * layer onto a fresh snapshot of the parent: both trees are the same, entry by entry.
     */
    @ParameterizedTest
    @ValueSource(strings = {"overlayfs", "native", "btrfs"})
    void applyDiffRoundTrip(String sn) throws Exception {
        SnapshotClient c = client("trip", sn);
        TarBuilder base = new TarBuilder()
                .dir("etc").file("etc/passwd", "root:x:0:0\n")
                .dir("usr", 0755, 0, 0).dir("usr/bin").file("usr/bin/sh", "elf".getBytes(), 0755, 0, 0)
                .paxHeader(TarBuilder.paxRecord("SCHILY.xattr.security.capability", NET_BIND_SERVICE))
                .file("usr/bin/ping", "elf".getBytes(), 0755, 0, 0)
                .hardlink("usr/bin/ash", "usr/bin/sh")
                .symlink("bin", "usr/bin")
                .dir("var").dir("var/cache").file("var/cache/a", "a").file("var/cache/b", "b")
                .dir("opt").dir("opt/app").file("opt/app/old", "old")
                .paxHeader(TarBuilder.paxRecord("SCHILY.xattr.user.note", "kept").getBytes())
                .file("noted", "x".getBytes(), 0640, 10, 20)
                .entry("fifo", '6', 0600, 0, 0, "", new byte[0])
                .file("replaced", "a file that becomes a directory");
        c.apply(base.tarGz(), LAYER_TAR_GZIP, c.prepare("base-active", ""));
        c.commit("base", "base-active");

        List<Mount> changed = c.prepare("changed", "base");
        withMounted(changed, work, mnt -> {
            Files.writeString(mnt.resolve("etc/passwd"), "root:x:0:0\nuser:x:1000:1000\n");
            Files.delete(mnt.resolve("var/cache/a"));
            run("rm", "-rf", mnt.resolve("opt/app").toString());
            Files.createDirectories(mnt.resolve("opt/app"));
            Files.writeString(mnt.resolve("opt/app/new"), "new"); // opt/app: gone and made again
            Files.createDirectories(mnt.resolve("srv/www"));
            Files.writeString(mnt.resolve("srv/www/index.html"), "<p>");
            run("chown", "-R", "33:33", mnt.resolve("srv").toString());
            run("chmod", "0711", mnt.resolve("etc").toString());
            run("chown", "5:6", mnt.resolve("noted").toString());
            Files.createSymbolicLink(mnt.resolve("link-to-passwd"), Path.of("etc/passwd"));
            Files.createLink(mnt.resolve("srv/hard"), mnt.resolve("srv/www/index.html"));
            Files.delete(mnt.resolve("replaced"));
            Files.createDirectories(mnt.resolve("replaced/inside"));
            run("chmod", "0750", mnt.resolve("usr/bin/ping").toString()); // keeps its capability
        });
        var layer = c.diff(c.view("base-view", "base"), changed, LAYER_TAR_GZIP);
        assertThat(layer.getMediaType()).isEqualTo(LAYER_TAR_GZIP);
        var applied = c.diff().apply(io.jcontainerd.api.services.diff.v1.ApplyRequest.newBuilder().setDiff(layer)
                .addAllMounts(c.prepare("replay", "base")).build()).getApplied();
        assertThat(applied.getMediaType()).isEqualTo(LAYER_TAR);
        assertThat(applied.getDigest()).isNotEqualTo(layer.getDigest());

        withMounted(c.mounts("changed"), work, expected -> withMounted(c.mounts("replay"), work, actual -> {
            Map<String, String> want = TreeListing.of(expected);
            assertThat(want.get("usr/bin/ping")).contains("100750").contains("cap=");
            assertThat(want).containsKeys("opt/app/new", "srv/hard", "replaced/inside", "link-to-passwd", "fifo", "noted")
                    .doesNotContainKeys("var/cache/a", "opt/app/old");
            assertThat(TreeListing.of(actual)).isEqualTo(want);
        }));
        for (String k : List.of("changed", "replay", "base-view", "base")) c.remove(k);
    }

    static long nanos(com.google.protobuf.Timestamp t) {
        return t.getSeconds() * 1_000_000_000L + t.getNanos();
    }

    static Object attr(Path p, String name) throws Exception {
        return Files.getAttribute(p, "unix:" + name, java.nio.file.LinkOption.NOFOLLOW_LINKS);
    }

    static void run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) throw new AssertionError(String.join(" ", cmd) + ": " + out);
    }

    /**
     * A subscription to one namespace's events through the Events service. Subscribing is asynchronous, so
     * a marker event is published until it comes back: from then on nothing can be missed.
     */
    static final class Events implements AutoCloseable {
        private static final String MARKER_TOPIC = "/snapshot-test/ready";
        private final Context.CancellableContext context = Context.current().withCancellation();
        private final BlockingQueue<Envelope> queue = new LinkedBlockingQueue<>();
        private final String namespace;

        private Events(String namespace) {
            this.namespace = namespace;
        }

        static Events subscribe(String namespace) throws Exception {
            Events e = new Events(namespace);
            e.context.run(() -> EventsGrpc.newStub(daemon.channel()).subscribe(
                    SubscribeRequest.newBuilder().addFilters("namespace==" + namespace).build(), new StreamObserver<>() {
                        @Override
                        public void onNext(Envelope v) {
                            e.queue.add(v);
                        }

                        @Override
                        public void onError(Throwable t) {}

                        @Override
                        public void onCompleted() {}
                    }));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (System.nanoTime() < deadline) {
                e.publishMarker();
                Envelope got = e.queue.poll(200, TimeUnit.MILLISECONDS);
                if (got != null && got.getTopic().equals(MARKER_TOPIC)) {
                    Thread.sleep(200);
                    e.queue.clear(); // later markers of the loop
                    return e;
                }
            }
            e.close();
            throw new AssertionError("subscription never delivered");
        }

        private void publishMarker() {
            DaemonProcess.inNamespace(EventsGrpc.newBlockingStub(daemon.channel()), namespace).publish(PublishRequest.newBuilder()
                    .setTopic(MARKER_TOPIC).setEvent(Any.newBuilder().setTypeUrl("containerd.events.SnapshotRemove")
                            .setValue(marker().toByteString())).build());
        }

        Message marker() {
            return SnapshotRemove.newBuilder().setKey("marker").build();
        }

        /** Publishes a closing marker and returns the snapshot events decoded, up to and including it. */
        List<Message> awaitCount(int n, Duration timeout) throws Exception {
            publishMarker();
            List<Message> out = new ArrayList<>();
            long deadline = System.nanoTime() + timeout.toNanos();
            while (out.size() < n + 5 && System.nanoTime() < deadline) {
                Envelope e = queue.poll(100, TimeUnit.MILLISECONDS);
                if (e == null) continue;
                out.add(decode(e));
                if (e.getTopic().equals(MARKER_TOPIC)) break;
            }
            return out;
        }

        private static Message decode(Envelope e) throws Exception {
            ByteString v = e.getEvent().getValue();
            String type = e.getEvent().getTypeUrl();
            return switch (e.getTopic()) {
                case "/snapshot/prepare" -> {
                    assertThat(type).isEqualTo("containerd.events.SnapshotPrepare");
                    yield SnapshotPrepare.parseFrom(v);
                }
                case "/snapshot/commit" -> {
                    assertThat(type).isEqualTo("containerd.events.SnapshotCommit");
                    yield SnapshotCommit.parseFrom(v);
                }
                case "/snapshot/remove", MARKER_TOPIC -> {
                    assertThat(type).isEqualTo("containerd.events.SnapshotRemove");
                    yield SnapshotRemove.parseFrom(v);
                }
                default -> throw new AssertionError("unexpected event " + e.getTopic());
            };
        }

        @Override
        public void close() {
            context.cancel(null);
        }
    }
}
