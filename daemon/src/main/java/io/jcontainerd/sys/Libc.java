package io.jcontainerd.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * The libc calls the daemon needs, through FFM downcalls that capture errno. Handles are created on
 * first use so that processes which never mount pay nothing for them.
 */
public final class Libc {
    private Libc() {}

    public static final int MNT_FORCE = 1;
    public static final int MNT_DETACH = 2;
    public static final int EINVAL = 22;
    public static final int ENOENT = 2;
    public static final int EBUSY = 16;

    private static final class Handles {
        static final Linker LINKER = Linker.nativeLinker();
        static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
        static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
        static final MethodHandle UMOUNT2 = LINKER.downcallHandle(
                LINKER.defaultLookup().find("umount2").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT),
                Linker.Option.captureCallState("errno"));
    }

    /** umount2(2); throws {@link ErrnoException} on failure. */
    public static void umount2(String target, int flags) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Handles.CAPTURE);
            int rc = (int) Handles.UMOUNT2.invokeExact(state, arena.allocateFrom(target), flags);
            if (rc != 0) throw new ErrnoException("umount2 " + target, (int) Handles.ERRNO.get(state, 0L));
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("umount2: " + t, t);
        }
    }
}
