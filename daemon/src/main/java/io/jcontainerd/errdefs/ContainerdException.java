package io.jcontainerd.errdefs;

/** An error of one {@link ErrorKind}; its message is what the client sees. */
public final class ContainerdException extends RuntimeException {
    private final ErrorKind kind;

    public ContainerdException(ErrorKind kind, String message) {
        this(kind, message, null);
    }

    public ContainerdException(ErrorKind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public ErrorKind kind() {
        return kind;
    }

    public boolean is(ErrorKind k) {
        return kind == k;
    }
}
