package io.jcontainerd.content.local;

import io.jcontainerd.content.Digest;
import io.jcontainerd.content.Status;
import io.jcontainerd.content.Writer;
import io.jcontainerd.errdefs.ContainerdException;
import io.jcontainerd.errdefs.ErrorKind;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The process {@link LocalContentStoreCrashTest} kills: it first finishes what its killed predecessor
 * left (resuming each ingest, then committing or aborting it), says "ready", then commits random
 * blobs until it is killed.
 */
public final class CrashChild {
    public static void main(String[] args) throws Exception {
        LocalContentStore store = LocalContentStore.open(Path.of(args[0]));
        SplittableRandom rnd = new SplittableRandom(System.nanoTime());
        for (Status st : store.listStatuses(List.of())) {
            if (rnd.nextBoolean()) {
                try (Writer w = store.writer(st.ref(), 0, null)) {
                    w.commit(st.offset(), null, Map.of());
                } catch (ContainerdException e) {
                    if (!e.is(ErrorKind.ALREADY_EXISTS)) throw e;
                }
            } else {
                store.abort(st.ref());
            }
        }
        System.out.println("ready");
        System.out.flush();
        ByteBuffer chunk = ByteBuffer.allocateDirect(64 << 10);
        byte[] heap = new byte[chunk.capacity()];
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        for (long i = 0; ; i++) {
            int size = rnd.nextInt(4 << 20);
            try (Writer w = store.writer("child-" + ProcessHandle.current().pid() + "-" + i, size, null)) {
                for (int done = 0; done < size; done += heap.length) {
                    int n = Math.min(heap.length, size - done);
                    rnd.nextBytes(heap);
                    md.update(heap, 0, n);
                    chunk.clear().put(heap, 0, n).flip();
                    w.write(chunk);
                }
                w.commit(size, Digest.sha256(md.digest()), Map.of());
            } catch (ContainerdException e) {
                if (!e.is(ErrorKind.ALREADY_EXISTS)) throw e; // the empty blob comes up now and then
            }
        }
    }
}
