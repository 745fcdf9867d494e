package io.jcontainerd.client.images;

/** Per-blob progress of a pull, push, import or unpack. Called from worker threads. */
@FunctionalInterface
public interface Progress {
    enum State { WAITING, DOWNLOADING, EXISTS, DONE, UPLOADING, MOUNTED, UNPACKING, UNPACKED, FAILED }

    void update(Descriptor d, State state, long offset);

    Progress NONE = (d, s, o) -> { };
}
