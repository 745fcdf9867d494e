package io.jcontainerd.archive;

import java.util.Map;

/**
 * One tar header as the applier sees it: names exactly as in the archive (after PAX/GNU long-name
 * processing), times in nanoseconds since the epoch ({@link #NO_TIME} when absent), and the
 * {@code SCHILY.xattr.*} records with their values as raw bytes.
 */
public record TarEntry(String name, char type, String linkName, long size, int mode, long uid, long gid,
                       int devMajor, int devMinor, long mtimeNanos, long atimeNanos, Map<String, byte[]> xattrs) {
    public static final long NO_TIME = Long.MIN_VALUE;

    public static final char REG = '0';
    public static final char REGA = '\0';
    public static final char LINK = '1';
    public static final char SYMLINK = '2';
    public static final char CHAR = '3';
    public static final char BLOCK = '4';
    public static final char DIR = '5';
    public static final char FIFO = '6';
    public static final char XGLOBAL = 'g';
}
