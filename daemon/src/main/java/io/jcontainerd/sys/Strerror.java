package io.jcontainerd.sys;

/** Short names for the errno values the daemon reports; others print as their number. */
final class Strerror {
    private Strerror() {}

    static String of(int errno) {
        return switch (errno) {
            case 1 -> "EPERM";
            case 2 -> "ENOENT";
            case 13 -> "EACCES";
            case 16 -> "EBUSY";
            case 17 -> "EEXIST";
            case 20 -> "ENOTDIR";
            case 22 -> "EINVAL";
            case 28 -> "ENOSPC";
            case 30 -> "EROFS";
            default -> "errno " + errno;
        };
    }
}
