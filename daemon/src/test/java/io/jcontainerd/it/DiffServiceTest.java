package io.jcontainerd.it;

import static io.jcontainerd.testing.DaemonProcess.inNamespace;
import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.jcontainerd.api.services.diff.v1.ApplyRequest;
import io.jcontainerd.api.services.diff.v1.DiffGrpc;
import io.jcontainerd.api.services.leases.v1.CreateRequest;
import io.jcontainerd.api.services.leases.v1.LeasesGrpc;
import io.jcontainerd.api.services.snapshots.v1.CommitSnapshotRequest;
import io.jcontainerd.api.services.snapshots.v1.ViewSnapshotRequest;
import io.jcontainerd.api.services.snapshots.v1.PrepareSnapshotRequest;
import io.jcontainerd.api.services.snapshots.v1.SnapshotsGrpc;
import io.jcontainerd.api.types.Descriptor;
import io.jcontainerd.api.types.Mount;
import io.jcontainerd.testing.ContentUpload;
import io.jcontainerd.testing.Ctr;
import io.jcontainerd.testing.DaemonProcess;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** The Diff service: Apply of real layer tarballs onto snapshots, and ctr snapshots diff. */
class DiffServiceTest {
    static final String NS = "diffs";
    static DaemonProcess daemon;
    static Path work;

    static String lease;

    @BeforeAll
    static void start() throws Exception {
        daemon = DaemonProcess.start();
        work = Files.createTempDirectory(Path.of("/tmp"), "jcdf");
        // everything this test makes lives under one lease, so a collection can never take it mid-test
        lease = inNamespace(LeasesGrpc.newBlockingStub(daemon.channel()), NS).create(CreateRequest.getDefaultInstance()).getLease().getId();
    }

    @AfterAll
    static void stop() {
        if (daemon != null) daemon.close();
        DaemonProcess.Cleanup.unmountUnder(work);
        DaemonProcess.Cleanup.deleteTree(work);
    }

    static void sh(String cmd) throws Exception {
        Process p = new ProcessBuilder("sh", "-c", cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) throw new AssertionError("`" + cmd + "` failed: " + out);
    }

    static String sha256(Path f) throws Exception {
        return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(f)));
    }

    /** Uploads {@code file} into the content store under the test's lease; returns its digest. */
    static String ingest(Path file) throws Exception {
        return ContentUpload.upload(daemon.channel(), NS, lease, Files.readAllBytes(file));
    }

    static List<Mount> prepare(String snapshotter, String key, String parent) {
        return snapshots().prepare(PrepareSnapshotRequest.newBuilder()
                .setSnapshotter(snapshotter).setKey(key).setParent(parent).build()).getMountsList();
    }

    static SnapshotsGrpc.SnapshotsBlockingStub snapshots() {
        return inNamespace(SnapshotsGrpc.newBlockingStub(daemon.channel()), NS, lease);
    }

    static void commit(String snapshotter, String name, String key) {
        snapshots().commit(CommitSnapshotRequest.newBuilder().setSnapshotter(snapshotter).setName(name).setKey(key).build());
    }

    static Descriptor apply(String mediaType, String digest, long size, List<Mount> mounts) {
        return inNamespace(DiffGrpc.newBlockingStub(daemon.channel()), NS, lease).apply(ApplyRequest.newBuilder()
                .setDiff(Descriptor.newBuilder().setMediaType(mediaType).setDigest(digest).setSize(size)).addAllMounts(mounts).build())
                .getApplied();
    }

    @ParameterizedTest
    @ValueSource(strings = {"overlayfs", "native"})
    void applyLayersThenDiffThem(String sn) throws Exception {
        Path src = Files.createDirectories(work.resolve(sn + "-l1/etc"));
        Files.writeString(src.resolve("hostname"), "box\n");
        Files.createDirectories(work.resolve(sn + "-l1/var/lib/data"));
        Files.writeString(work.resolve(sn + "-l1/var/lib/data/old"), "old");
        Path l1 = work.resolve(sn + "-l1.tar.gz");
        sh("tar -C " + work.resolve(sn + "-l1") + " -czf " + l1 + " .");
        Path l2dir = Files.createDirectories(work.resolve(sn + "-l2/var/lib/data"));
        Files.writeString(work.resolve(sn + "-l2/etc.txt"), "new");
        Files.writeString(l2dir.resolve(".wh.old"), "");
        Path l2 = work.resolve(sn + "-l2.tar");
        sh("tar -C " + work.resolve(sn + "-l2") + " -cf " + l2 + " .");

        String d1 = ingest(l1);
        var applied1 = apply("application/vnd.oci.image.layer.v1.tar+gzip", d1, Files.size(l1), prepare(sn, "l1-active", ""));
        assertThat(applied1.getMediaType()).isEqualTo("application/vnd.oci.image.layer.v1.tar");
        commit(sn, "l1", "l1-active");

        String d2 = ingest(l2);
        var applied2 = apply("application/vnd.docker.image.rootfs.diff.tar", d2, Files.size(l2), prepare(sn, "l2-active", "l1"));
        assertThat(applied2.getDigest()).isEqualTo(sha256(l2));
        commit(sn, "l2", "l2-active");

        Path mnt = Files.createDirectories(work.resolve(sn + "-mnt"));
        snapshots().view(ViewSnapshotRequest.newBuilder().setSnapshotter(sn).setKey("l2-view").setParent("l2").build());
        sh(Ctr.run(daemon.address(), "-n", NS, "snapshots", "--snapshotter", sn, "mounts", mnt.toString(), "l2-view").assertOk().stdout());
        try {
            assertThat(Files.readString(mnt.resolve("etc/hostname"))).isEqualTo("box\n");
            assertThat(Files.readString(mnt.resolve("etc.txt"))).isEqualTo("new");
            assertThat(mnt.resolve("var/lib/data/old")).doesNotExist();
        } finally {
            sh("umount " + mnt);
        }

        // ctr snapshots diff l2 (against its parent) writes the layer; it must hold the change
        Process p = new ProcessBuilder("ctr", "--address", daemon.address(), "-n", NS, "snapshots", "--snapshotter", sn,
                "diff", "--keep", "l2").start();
        byte[] layer = p.getInputStream().readAllBytes();
        assertThat(p.waitFor()).isZero();
        Path listing = work.resolve(sn + "-listing.tgz");
        Files.write(listing, layer);
        Process t = new ProcessBuilder("tar", "-tzf", listing.toString()).redirectErrorStream(true).start();
        String entries = new String(t.getInputStream().readAllBytes());
        assertThat(t.waitFor()).as(entries).isZero();
        assertThat(entries).contains("etc.txt").contains("var/lib/data/.wh.old");
    }

    @Test
    void hostileLayerIsInvalidArgumentAndWritesNothingOutside() throws Exception {
        Path outside = Files.createDirectories(work.resolve("outside"));
        // a tar whose entry climbs out of the root
        Path evil = work.resolve("evil.tar");
        sh("cd " + work + " && mkdir -p evsrc && echo pwned > evsrc/x && tar -cf " + evil + " --transform='s,^evsrc/x,../../outside/pwned,' evsrc/x");
        String d = ingest(evil);
        try {
            apply("application/vnd.oci.image.layer.v1.tar", d, Files.size(evil), prepare("native", "evil-active", ""));
            throw new AssertionError("hostile layer was applied");
        } catch (StatusRuntimeException e) {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        }
        try (var s = Files.list(outside)) {
            assertThat(s.toList()).isEmpty();
        }
    }

    @Test
    void nonLayerMediaTypeIsUnimplemented() {
        try {
            apply("application/vnd.oci.image.manifest.v1+json", "sha256:" + "0".repeat(64), 1, prepare("native", "m-active", ""));
            throw new AssertionError("applied a manifest");
        } catch (StatusRuntimeException e) {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNIMPLEMENTED);
        }
    }

}
