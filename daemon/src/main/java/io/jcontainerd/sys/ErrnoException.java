package io.jcontainerd.sys;

import java.io.IOException;

/** A failed system call and its errno. */
public final class ErrnoException extends IOException {
    private final int errno;

    public ErrnoException(String call, int errno) {
        super(call + ": errno " + errno + " (" + Strerror.of(errno) + ")");
        this.errno = errno;
    }

    public int errno() {
        return errno;
    }
}
