package io.jcontainerd.client.testing;

import io.jcontainerd.client.Json;
import io.jcontainerd.testing.TestImages;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;

/**
 * Test images generated offline as OCI layouts, deterministic byte for byte, and cached under a
 * directory (by default {@code target/test-images} of the module) so each is built once per machine:
 * a large image (~200 MB of gzip layers, tens of thousands of files) and a multi-platform index.
 * Used by the client tests and by {@code bench/pull.sh}.
 */
public final class GeneratedImages {
    /** Bumped whenever the content changes, so stale caches are rebuilt rather than trusted. */
    private static final String LARGE = "large-v1";
    private static final String MULTI = "multi-v1";
    static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
    static final String OCI_INDEX = "application/vnd.oci.image.index.v1+json";
    static final String OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
    static final String OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";
    private static final long MTIME = 1_700_000_000L;

    /** Shape of the large image: data layers after a busybox base layer. */
    public static final int DATA_LAYERS = 4;
    public static final int SMALL_FILES_PER_LAYER = 8000;
    public static final int BIG_FILES_PER_LAYER = 3;
    public static final int BIG_FILE_BYTES = 16 << 20;
    /** The busybox applets linked in the base layer (enough for {@code ctr run} checks). */
    static final List<String> APPLETS = List.of("sh", "ls", "cat", "wc", "find", "sha256sum", "echo", "true", "du");
    /** One file of the first data layer that the second one whites out. */
    public static final String WHITED_OUT = "data/l1/d000/f00000";

    private GeneratedImages() {}

    /**
     * The large image: {@code layout} (OCI layout, tag {@code latest}), {@code archive} (an OCI archive
     * named {@code docker.io/library/large:latest}, for imports), sizes and what the unpacked tree holds.
     *
     * @param files        regular files in the unpacked tree (busybox included, the whited-out one not)
     * @param sampleHashes sha256 hex of a few files by path (no leading slash)
     */
    public record Large(Path layout, Path archive, List<String> layerDigests, long compressedBytes, long uncompressedBytes,
                        int files, Map<String, String> sampleHashes) {}

    /** For bench/pull.sh: builds (or finds) the large image under args[0]; prints shell assignments. */
    public static void main(String[] args) throws Exception {
        Large l = large(Path.of(args[0]));
        System.out.println("LAYOUT=" + l.layout());
        System.out.println("ARCHIVE=" + l.archive());
        System.out.println("COMPRESSED=" + l.compressedBytes());
        System.out.println("UNCOMPRESSED=" + l.uncompressedBytes());
        System.out.println("FILES=" + l.files());
        System.out.println("LAYERS=" + l.layerDigests().size());
    }

    public static Path defaultCache() {
        return Path.of(System.getProperty("jcontainerd.testImages", "target/test-images")).toAbsolutePath();
    }

    public static synchronized Large large() throws IOException, InterruptedException {
        return large(defaultCache());
    }

    /** Builds (or reuses) the large image under {@code cache}. */
    public static synchronized Large large(Path cache) throws IOException, InterruptedException {
        Path dir = cache.resolve(LARGE);
        Path done = dir.resolve("summary.json");
        if (!Files.exists(done)) {
            Path tmp = cache.resolve(LARGE + ".tmp" + ProcessHandle.current().pid());
            deleteTree(tmp);
            buildLarge(tmp);
            deleteTree(dir);
            Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
        }
        Map<String, Object> s = Json.parseObject(Files.readAllBytes(done));
        Map<String, String> hashes = Json.strings(s, "samples");
        List<String> layers = Json.arr(s, "layers").stream().map(String::valueOf).toList();
        return new Large(dir.resolve("layout"), dir.resolve("large-oci.tar"), layers, Json.num(s, "compressed"),
                Json.num(s, "uncompressed"), (int) Json.num(s, "files"), hashes);
    }

    private static void buildLarge(Path dir) throws IOException, InterruptedException {
        Path layout = Files.createDirectories(dir.resolve("layout"));
        Blobs blobs = new Blobs(layout);
        List<Blob> layers = new ArrayList<>();
        Map<String, String> samples = new TreeMap<>();
        int[] files = {0};
        byte[] busybox = Files.readAllBytes(Path.of("/bin/busybox"));
        layers.add(blobs.layer(t -> {
            t.dir("bin/");
            t.file("bin/busybox", busybox, 0755);
            for (String a : APPLETS) t.symlink("bin/" + a, "busybox");
            t.dir("tmp/");
            files[0]++;
        }));
        samples.put("bin/busybox", sha256Hex(busybox));
        for (int l = 1; l <= DATA_LAYERS; l++) {
            int layer = l;
            layers.add(blobs.layer(t -> {
                if (layer == 1) t.dir("data/");
                String base = "data/l" + layer + "/";
                t.dir(base);
                if (layer == 2) t.whiteout(WHITED_OUT);
                for (int i = 0; i < SMALL_FILES_PER_LAYER; i++) {
                    if (i % 100 == 0) t.dir(base + "d%03d/".formatted(i / 100));
                    byte[] b = smallFile(layer, i);
                    String name = base + "d%03d/f%05d".formatted(i / 100, i);
                    t.file(name, b, 0644);
                    if (i % 2000 == 1) samples.put(name, sha256Hex(b));
                }
                for (int i = 0; i < BIG_FILES_PER_LAYER; i++) {
                    String name = base + "big" + i;
                    MessageDigest md = sha256();
                    long seed = layer * 1000L + i;
                    t.file(name, BIG_FILE_BYTES, 0644, out -> {
                        SplittableRandom r = new SplittableRandom(seed);
                        byte[] chunk = new byte[1 << 20];
                        for (int n = 0; n < BIG_FILE_BYTES; n += chunk.length) {
                            r.nextBytes(chunk);
                            md.update(chunk);
                            out.write(chunk);
                        }
                    });
                    samples.put(name, HexFormat.of().formatHex(md.digest()));
                }
            }));
            files[0] += SMALL_FILES_PER_LAYER + BIG_FILES_PER_LAYER - (layer == 2 ? 1 : 0);
        }
        Map<String, Object> config = config("amd64", null, layers);
        Blob manifest = blobs.manifest(blobs.json(config), layers);
        writeIndex(layout, manifest, OCI_MANIFEST);
        long compressed = layers.stream().mapToLong(Blob::size).sum();
        long uncompressed = layers.stream().mapToLong(b -> b.uncompressedSize).sum();
        skopeo(dir, "copy", "-q", "oci:" + layout + ":latest", "oci-archive:" + dir.resolve("large-oci.tar")
                + ":docker.io/library/large:latest");
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("layers", layers.stream().map(Blob::digest).toList());
        summary.put("compressed", compressed);
        summary.put("uncompressed", uncompressed);
        summary.put("files", files[0]);
        summary.put("samples", samples);
        Files.write(dir.resolve("summary.json"), Json.bytes(summary));
    }

    /** 0–4 KiB drawn from a 16-letter alphabet: compresses about 2:1 like ordinary files. */
    static byte[] smallFile(int layer, int i) {
        SplittableRandom r = new SplittableRandom(layer * 1_000_003L + i);
        byte[] b = new byte[r.nextInt(4097)];
        for (int k = 0; k < b.length; k++) b[k] = (byte) ('a' + r.nextInt(16));
        return b;
    }

    /**
     * The multi-platform image: an OCI layout whose tag {@code latest} is an index of linux/amd64 (the
     * busybox test image), linux/arm64 and linux/arm/v7 (one tiny synthetic layer each, holding
     * {@code /platform} with the platform's name).
     */
    public static synchronized Path multiPlatform(Path cache) throws IOException, InterruptedException {
        Path dir = cache.resolve(MULTI);
        if (Files.exists(dir.resolve("layout/index.json"))) return dir.resolve("layout");
        Path tmp = cache.resolve(MULTI + ".tmp" + ProcessHandle.current().pid());
        deleteTree(tmp);
        Path layout = Files.createDirectories(tmp.resolve("layout"));
        Blobs blobs = new Blobs(layout);
        // the host's manifest: busybox's, blobs copied over
        Path bb = TestImages.busybox().resolve("layout");
        try (Stream<Path> s = Files.list(bb.resolve("blobs/sha256"))) {
            for (Path p : s.toList()) Files.copy(p, layout.resolve("blobs/sha256").resolve(p.getFileName()), StandardCopyOption.REPLACE_EXISTING);
        }
        Map<String, Object> bbIndex = Json.parseObject(Files.readAllBytes(bb.resolve("index.json")));
        @SuppressWarnings("unchecked")
        Map<String, Object> amd64 = new LinkedHashMap<>((Map<String, Object>) Json.arr(bbIndex, "manifests").getFirst());
        amd64.remove("annotations");
        amd64.put("platform", new TreeMap<>(Map.of("architecture", "amd64", "os", "linux")));
        List<Object> manifests = new ArrayList<>(List.of(amd64));
        for (String[] p : List.of(new String[] {"arm64", null}, new String[] {"arm", "v7"})) {
            String name = "linux/" + p[0] + (p[1] == null ? "" : "/" + p[1]);
            Blob layer = blobs.layer(t -> t.file("platform", (name + "\n").getBytes(StandardCharsets.UTF_8), 0644));
            Blob m = blobs.manifest(blobs.json(config(p[0], p[1], List.of(layer))), List.of(layer));
            Map<String, Object> d = m.descriptor(OCI_MANIFEST);
            Map<String, Object> plat = new LinkedHashMap<>();
            plat.put("architecture", p[0]);
            plat.put("os", "linux");
            if (p[1] != null) plat.put("variant", p[1]);
            d.put("platform", plat);
            manifests.add(d);
        }
        Map<String, Object> index = new LinkedHashMap<>();
        index.put("schemaVersion", 2);
        index.put("mediaType", OCI_INDEX);
        index.put("manifests", manifests);
        Blob idx = blobs.json(index);
        writeIndex(layout, idx, OCI_INDEX);
        deleteTree(dir);
        Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
        return dir.resolve("layout");
    }

    /** Pushes {@code layout}'s tag {@code latest} (all platforms) to {@code registry} as {@code repoAndTag}. */
    public static void push(Path layout, String registry, String repoAndTag) throws IOException, InterruptedException {
        skopeo(layout.getParent(), "copy", "-q", "--all", "--dest-tls-verify=false", "oci:" + layout + ":latest",
                "docker://" + registry + "/" + repoAndTag);
    }

    // ------------------------------------------------------------------------------------ plumbing

    private static Map<String, Object> config(String arch, String variant, List<Blob> layers) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("architecture", arch);
        if (variant != null) c.put("variant", variant);
        c.put("os", "linux");
        c.put("config", new TreeMap<>(Map.of("Env", List.of("PATH=/bin"), "Cmd", List.of("/bin/sh"))));
        c.put("rootfs", new TreeMap<>(Map.of("type", "layers", "diff_ids", layers.stream().map(b -> b.diffId).toList())));
        return c;
    }

    private static void writeIndex(Path layout, Blob target, String mediaType) throws IOException {
        Map<String, Object> d = target.descriptor(mediaType);
        d.put("annotations", Map.of("org.opencontainers.image.ref.name", "latest"));
        Map<String, Object> index = new LinkedHashMap<>();
        index.put("schemaVersion", 2);
        index.put("manifests", List.of(d));
        Files.write(layout.resolve("index.json"), Json.bytes(index));
        Files.writeString(layout.resolve("oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
    }

    record Blob(String digest, long size, String diffId, long uncompressedSize) {
        Map<String, Object> descriptor(String mediaType) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("mediaType", mediaType);
            m.put("digest", digest);
            m.put("size", size);
            return m;
        }
    }

    @FunctionalInterface
    interface TarContent {
        void write(Tar t) throws IOException;
    }

    /** Writes blobs into {@code blobs/sha256} of a layout, named by their digest. */
    private static final class Blobs {
        private final Path dir;
        private int seq;

        Blobs(Path layout) throws IOException {
            this.dir = Files.createDirectories(layout.resolve("blobs/sha256"));
        }

        Blob json(Object v) throws IOException {
            byte[] b = Json.bytes(v);
            String hex = sha256Hex(b);
            Files.write(dir.resolve(hex), b);
            return new Blob("sha256:" + hex, b.length, null, b.length);
        }

        Blob manifest(Blob config, List<Blob> layers) throws IOException {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("schemaVersion", 2);
            m.put("mediaType", OCI_MANIFEST);
            m.put("config", config.descriptor(OCI_CONFIG));
            m.put("layers", layers.stream().map(l -> l.descriptor(OCI_LAYER_GZIP)).toList());
            return json(m);
        }

        /** A gzip layer (fastest level: the generator should take seconds, not minutes). */
        Blob layer(TarContent content) throws IOException {
            Path tmp = dir.resolve("tmp" + seq++);
            MessageDigest compressed = sha256();
            MessageDigest uncompressed = sha256();
            long[] counts = new long[2];
            try (OutputStream file = new java.io.BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16);
                 OutputStream cz = new Counting(new DigestOutputStream(file, compressed), counts, 0);
                 GZIPOutputStream gz = new GZIPOutputStream(cz, 1 << 16) {
                     { def.setLevel(Deflater.BEST_SPEED); }
                 };
                 OutputStream raw = new Counting(new DigestOutputStream(gz, uncompressed), counts, 1)) {
                Tar t = new Tar(raw);
                content.write(t);
                t.finish();
            }
            String hex = HexFormat.of().formatHex(compressed.digest());
            Files.move(tmp, dir.resolve(hex), StandardCopyOption.REPLACE_EXISTING);
            return new Blob("sha256:" + hex, counts[0], "sha256:" + HexFormat.of().formatHex(uncompressed.digest()), counts[1]);
        }
    }

    private static final class Counting extends FilterOutputStream {
        private final long[] counts;
        private final int slot;

        Counting(OutputStream out, long[] counts, int slot) {
            super(out);
            this.counts = counts;
            this.slot = slot;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            counts[slot] += len;
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            counts[slot]++;
        }
    }

    /** A minimal streaming ustar writer (names here are short, so no PAX records are needed). */
    static final class Tar {
        private final OutputStream out;

        Tar(OutputStream out) {
            this.out = out;
        }

        void dir(String name) throws IOException {
            header(name, 0, '5', 0755, "");
        }

        void file(String name, byte[] data, int mode) throws IOException {
            header(name, data.length, '0', mode, "");
            out.write(data);
            pad(data.length);
        }

        interface Body {
            void write(OutputStream out) throws IOException;
        }

        void file(String name, long size, int mode, Body body) throws IOException {
            header(name, size, '0', mode, "");
            body.write(out);
            pad(size);
        }

        void symlink(String name, String target) throws IOException {
            header(name, 0, '2', 0777, target);
        }

        void whiteout(String path) throws IOException {
            int slash = path.lastIndexOf('/');
            file(path.substring(0, slash + 1) + ".wh." + path.substring(slash + 1), new byte[0], 0644);
        }

        void finish() throws IOException {
            out.write(new byte[1024]);
        }

        private void pad(long size) throws IOException {
            int rem = (int) (size % 512);
            if (rem != 0) out.write(new byte[512 - rem]);
        }

        private void header(String name, long size, char type, int mode, String link) throws IOException {
            byte[] h = new byte[512];
            put(h, 0, 100, name.getBytes(StandardCharsets.UTF_8));
            octal(h, 100, 8, mode);
            octal(h, 108, 8, 0);
            octal(h, 116, 8, 0);
            octal(h, 124, 12, size);
            octal(h, 136, 12, MTIME);
            java.util.Arrays.fill(h, 148, 156, (byte) ' ');
            h[156] = (byte) type;
            put(h, 157, 100, link.getBytes(StandardCharsets.UTF_8));
            put(h, 257, 6, "ustar\0".getBytes(StandardCharsets.US_ASCII));
            put(h, 263, 2, "00".getBytes(StandardCharsets.US_ASCII));
            long sum = 0;
            for (byte b : h) sum += b & 0xff;
            octal(h, 148, 7, sum);
            out.write(h);
        }

        private static void put(byte[] h, int off, int len, byte[] v) {
            if (v.length > len) throw new IllegalArgumentException("tar field too long: " + new String(v, StandardCharsets.UTF_8));
            System.arraycopy(v, 0, h, off, v.length);
        }

        private static void octal(byte[] h, int off, int len, long v) {
            String s = Long.toOctalString(v);
            s = "0".repeat(Math.max(0, len - 1 - s.length())) + s;
            put(h, off, len, s.getBytes(StandardCharsets.US_ASCII));
        }
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static String sha256Hex(byte[] b) {
        return HexFormat.of().formatHex(sha256().digest(b));
    }

    private static void skopeo(Path cwd, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("skopeo"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(300, TimeUnit.SECONDS) || p.exitValue() != 0) throw new IOException(cmd + " failed: " + out);
    }

    static void deleteTree(Path p) {
        if (!Files.exists(p)) return;
        try (Stream<Path> s = Files.walk(p)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(x -> x.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
