package io.jcontainerd.content.local;

import io.jcontainerd.content.Digest;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.logging.Level;
import java.util.logging.Logger;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The running SHA-256 of an ingest. The JDK's SHA-256 is fast only once C2 compiles it with its SHA
 * intrinsics; the daemon runs C1 only (start-up time, footprint), where it manages about a tenth of the
 * hardware's speed and caps ingest throughput. So the digest comes from libcrypto's SHA256 functions
 * (SHA-NI/AVX2 code) through FFM when that library loads, and from {@link MessageDigest} otherwise or
 * when the system property {@code jcontainerd.sha256} is {@code jdk}. Not thread-safe: the writer
 * serializes access. Layer apply hashes the uncompressed stream with it too.
 */
public abstract sealed class Sha256 permits Sha256.Native, Sha256.Jdk {
    private static final Logger LOG = Logger.getLogger(Sha256.class.getName());

    public static Sha256 create() {
        return Libcrypto.AVAILABLE ? new Native() : new Jdk();
    }

    /** Whether digests come from libcrypto. */
    static boolean isNative() {
        return Libcrypto.AVAILABLE;
    }

    /** Hashes the bytes from {@code src}'s position to its limit and moves the position to the limit. */
    abstract void update(ByteBuffer src);

    public abstract void update(byte[] b, int off, int len);

    /** Back to the digest of nothing. */
    abstract void reset();

    /** The digest of everything hashed so far; hashing can go on afterwards. */
    public abstract Digest current();

    static final class Jdk extends Sha256 {
        private final MessageDigest md = LocalContentStore.sha256();

        @Override
        void update(ByteBuffer src) {
            md.update(src);
        }

        @Override
        public void update(byte[] b, int off, int len) {
            md.update(b, off, len);
        }

        @Override
        void reset() {
            md.reset();
        }

        @Override
        public Digest current() {
            try {
                return Digest.sha256(((MessageDigest) md.clone()).digest()); // digest() resets: use a copy
            } catch (CloneNotSupportedException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    static final class Native extends Sha256 {
        // OpenSSL's SHA256_CTX is 112 bytes; room to spare. Freed with this object.
        private static final long CTX_SIZE = 256;
        private final MemorySegment ctx;
        private final MemorySegment scratch;

        Native() {
            Arena arena = Arena.ofAuto();
            ctx = arena.allocate(CTX_SIZE, 16);
            scratch = arena.allocate(CTX_SIZE, 16);
            reset();
        }

        @Override
        void update(ByteBuffer src) {
            int n = src.remaining();
            if (n == 0) return;
            // heap buffers are passed in place (critical downcall), direct ones by address
            Libcrypto.update(ctx, MemorySegment.ofBuffer(src), n);
            src.position(src.limit());
        }

        @Override
        public void update(byte[] b, int off, int len) {
            if (len == 0) return;
            Libcrypto.update(ctx, MemorySegment.ofArray(b).asSlice(off, len), len);
        }

        @Override
        void reset() {
            Libcrypto.init(ctx);
        }

        @Override
        public Digest current() {
            // finishing consumes the context: finish a copy
            scratch.copyFrom(ctx);
            byte[] out = new byte[32];
            Libcrypto.finish(scratch, out);
            return Digest.sha256(out);
        }
    }

    /** libcrypto's SHA256_Init/Update/Final, bound on first use. */
    private static final class Libcrypto {
        static final boolean AVAILABLE;
        private static final MethodHandle INIT;
        private static final MethodHandle UPDATE;
        private static final MethodHandle FINAL;

        static {
            MethodHandle init = null, update = null, fin = null;
            if (!"jdk".equals(System.getProperty("jcontainerd.sha256"))) {
                try {
                    SymbolLookup lib = lookup();
                    Linker linker = Linker.nativeLinker();
                    // critical: short calls that may read Java heap arrays in place
                    Linker.Option heap = Linker.Option.critical(true);
                    init = linker.downcallHandle(lib.find("SHA256_Init").orElseThrow(),
                            FunctionDescriptor.of(JAVA_INT, ADDRESS));
                    update = linker.downcallHandle(lib.find("SHA256_Update").orElseThrow(),
                            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG), heap);
                    fin = linker.downcallHandle(lib.find("SHA256_Final").orElseThrow(),
                            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), heap);
                    if (!selfTest(init, update, fin)) throw new IllegalStateException("libcrypto SHA256 gave a wrong digest");
                } catch (RuntimeException | LinkageError e) {
                    LOG.log(Level.INFO, "libcrypto SHA-256 unavailable, using the JDK's: " + e);
                    init = update = fin = null;
                }
            }
            INIT = init;
            UPDATE = update;
            FINAL = fin;
            AVAILABLE = init != null;
        }

        private static SymbolLookup lookup() {
            IllegalArgumentException first = null;
            for (String name : new String[] {"libcrypto.so.3", "libcrypto.so"}) {
                try {
                    return SymbolLookup.libraryLookup(name, Arena.global());
                } catch (IllegalArgumentException e) {
                    if (first == null) first = e;
                }
            }
            throw first;
        }

        /** The digest of "abc" (FIPS 180-2), so a broken binding never names a blob. */
        private static boolean selfTest(MethodHandle init, MethodHandle update, MethodHandle fin) {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment c = a.allocate(Native.CTX_SIZE, 16);
                byte[] out = new byte[32];
                if ((int) init.invokeExact(c) != 1) return false;
                if ((int) update.invokeExact(c, MemorySegment.ofArray("abc".getBytes()), 3L) != 1) return false;
                if ((int) fin.invokeExact(MemorySegment.ofArray(out), c) != 1) return false;
                return java.util.HexFormat.of().formatHex(out)
                        .equals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
            } catch (Throwable t) {
                return false;
            }
        }

        static void init(MemorySegment ctx) {
            try {
                check((int) INIT.invokeExact(ctx), "SHA256_Init");
            } catch (Throwable t) {
                throw rethrow(t);
            }
        }

        static void update(MemorySegment ctx, MemorySegment data, long len) {
            try {
                check((int) UPDATE.invokeExact(ctx, data, len), "SHA256_Update");
            } catch (Throwable t) {
                throw rethrow(t);
            }
        }

        static void finish(MemorySegment ctx, byte[] out) {
            try {
                check((int) FINAL.invokeExact(MemorySegment.ofArray(out), ctx), "SHA256_Final");
            } catch (Throwable t) {
                throw rethrow(t);
            }
        }

        private static void check(int rc, String call) {
            if (rc != 1) throw new IllegalStateException(call + " failed");
        }

        private static RuntimeException rethrow(Throwable t) {
            if (t instanceof RuntimeException r) return r;
            if (t instanceof Error e) throw e;
            return new IllegalStateException(t);
        }
    }
}
