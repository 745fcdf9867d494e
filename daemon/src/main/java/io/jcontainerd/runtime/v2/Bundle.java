package io.jcontainerd.runtime.v2;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.jcontainerd.errdefs.ContainerdException;
import io.jcontainerd.errdefs.Errdefs;
import io.jcontainerd.mount.Mounts;
import io.jcontainerd.namespaces.Namespaces;
import java.io.IOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * A task's bundle: {@code state/<namespace>/<id>} holding the OCI {@code config.json}, the {@code rootfs}
 * mount point, a {@code work} link to {@code root/<namespace>/<id>} and the shim's files
 * ({@code address}, {@code shim-binary-path}, {@code log}, ...). The layout is containerd's, so its
 * shims find what they expect.
 */
public record Bundle(String id, String namespace, Path path) {

    public static final String CONFIG = "config.json";

    /** The bundle of an existing task (nothing is checked). */
    public static Bundle load(Path state, String namespace, String id) {
        return new Bundle(id, namespace, state.resolve(namespace).resolve(id));
    }

    /**
     * Creates the bundle and its work directory, writing {@code spec} (OCI runtime spec JSON) verbatim as
     * {@code config.json}: as in containerd, the client's spec names the root ({@code root.path}, normally
     * {@code "rootfs"}, relative to the bundle) and the shim mounts the task's rootfs there.
     */
    public static Bundle create(Path root, Path state, String namespace, String id, byte[] spec) throws IOException {
        try {
            Namespaces.validateIdentifier(id);
        } catch (ContainerdException e) {
            throw new ContainerdException(e.kind(), "invalid task id " + id + ": " + e.getMessage(), e);
        }
        Path work = root.resolve(namespace).resolve(id);
        Bundle b = new Bundle(id, namespace, state.resolve(namespace).resolve(id));
        mkdirs(b.path.getParent(), "rwx--x--x");
        try {
            Files.createDirectory(b.path);
        } catch (java.nio.file.FileAlreadyExistsException e) {
            throw Errdefs.alreadyExists("bundle %s: already exists", b.path);
        }
        boolean ok = false; // from here on, a failure removes what this call made
        try {
            Files.setPosixFilePermissions(b.path, PosixFilePermissions.fromString("rwx------"));
            long gid = remappedGid(spec);
            if (gid != 0) {
                // a user-namespaced container's root must be able to enter its bundle
                Files.setAttribute(b.path, "unix:gid", (int) gid);
                Files.setPosixFilePermissions(b.path, PosixFilePermissions.fromString("rwx--x---"));
            }
            mkdirs(work.getParent(), "rwx--x--x");
            Files.createDirectory(b.rootfs());
            Files.setPosixFilePermissions(b.rootfs(), PosixFilePermissions.fromString("rwx--x--x"));
            if (Files.exists(work, LinkOption.NOFOLLOW_LINKS)) deleteTree(work); // left by a crash
            Files.createDirectory(work);
            Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwx--x--x"));
            Files.createSymbolicLink(b.path.resolve("work"), work);
            Files.write(b.path.resolve(CONFIG), spec);
            ok = true;
            return b;
        } finally {
            if (!ok) b.delete();
        }
    }

    public Path rootfs() {
        return path.resolve("rootfs");
    }

    public Path file(String name) {
        return path.resolve(name);
    }

    /**
     * Unmounts the rootfs, then removes the bundle and its work directory, each renamed to a dot-name
     * first so that a crash halfway never leaves a half-deleted bundle that looks loadable.
     */
    public void delete() throws IOException {
        Path work = null;
        try {
            work = Files.readSymbolicLink(path.resolve("work"));
        } catch (NoSuchFileException | java.nio.file.NotLinkException e) {
            // no work dir recorded
        }
        Mounts.unmountAll(rootfs(), 0);
        try {
            Files.deleteIfExists(rootfs());
        } catch (DirectoryNotEmptyException e) {
            throw new IOException("failed to remove bundle rootfs " + rootfs() + ": directory not empty", e);
        }
        atomicDelete(path);
        if (work != null) atomicDelete(work);
    }

    private static void atomicDelete(Path p) throws IOException {
        Path hidden = p.resolveSibling("." + p.getFileName());
        try {
            Files.move(p, hidden, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (NoSuchFileException e) {
            return;
        }
        deleteTree(hidden);
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) return;
        try (Stream<Path> walk = Files.walk(p)) {
            for (Path q : walk.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(q);
        }
    }

    private static void mkdirs(Path dir, String perms) throws IOException {
        if (Files.isDirectory(dir)) return;
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString(perms));
    }

    /**
     * The host gid that container gid 0 maps to ({@code linux.gidMappings}), 0 when there is no mapping.
     * A streaming scan: the spec is otherwise passed through untouched.
     */
    static long remappedGid(byte[] spec) throws IOException {
        try (JsonParser p = new JsonFactory().createParser(spec)) {
            if (p.nextToken() != JsonToken.START_OBJECT) throw Errdefs.invalidArgument("spec is not a JSON object");
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken t = p.nextToken();
                if (name.equals("linux") && t == JsonToken.START_OBJECT) {
                    while (p.nextToken() == JsonToken.FIELD_NAME) {
                        String field = p.currentName();
                        JsonToken v = p.nextToken();
                        if (field.equals("gidMappings") && v == JsonToken.START_ARRAY) return gidOfZero(p);
                        p.skipChildren();
                    }
                    return 0;
                }
                p.skipChildren();
            }
            return 0;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw Errdefs.invalidArgument("invalid OCI spec: %s", e.getOriginalMessage());
        }
    }

    private static long gidOfZero(JsonParser p) throws IOException {
        long found = 0;
        while (p.nextToken() == JsonToken.START_OBJECT) {
            long containerId = -1;
            long hostId = 0;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String f = p.currentName();
                p.nextToken();
                switch (f) {
                    case "containerID" -> containerId = p.getValueAsLong(-1);
                    case "hostID" -> hostId = p.getValueAsLong(0);
                    default -> p.skipChildren();
                }
            }
            if (containerId == 0 && found == 0) found = hostId;
        }
        return found;
    }
}
