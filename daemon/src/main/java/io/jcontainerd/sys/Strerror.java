package io.jcontainerd.sys;

/** Short names for the errno values the daemon reports; others print as their number. */
final class Strerror {
    private Strerror() {}

    static String of(int errno) {
        return switch (errno) {
            case 1 -> "EPERM";
            case 2 -> "ENOENT";
            case 7 -> "E2BIG";
            case 9 -> "EBADF";
            case 13 -> "EACCES";
            case 16 -> "EBUSY";
            case 17 -> "EEXIST";
            case 18 -> "EXDEV";
            case 20 -> "ENOTDIR";
            case 22 -> "EINVAL";
            case 28 -> "ENOSPC";
            case 30 -> "EROFS";
            case 34 -> "ERANGE";
            case 36 -> "ENAMETOOLONG";
            case 38 -> "ENOSYS";
            case 39 -> "ENOTEMPTY";
            case 40 -> "ELOOP";
            case 61 -> "ENODATA";
            case 95 -> "EOPNOTSUPP";
            default -> "errno " + errno;
        };
    }
}
