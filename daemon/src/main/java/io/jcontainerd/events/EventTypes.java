package io.jcontainerd.events;

import com.google.protobuf.Any;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import java.util.HashMap;
import java.util.Map;

/**
 * The event messages an {@code event.*} filter can look into: every message (nested ones included)
 * of containerd's event protos. Built on first use, so daemons that never filter on event fields
 * never load the descriptors.
 */
final class EventTypes {
    private EventTypes() {}

    private static final class Registry {
        static final Map<String, Descriptor> BY_NAME = build();

        private static Map<String, Descriptor> build() {
            Map<String, Descriptor> m = new HashMap<>();
            for (FileDescriptor f : new FileDescriptor[] {
                io.jcontainerd.api.events.ContainerProto.getDescriptor(),
                io.jcontainerd.api.events.ContentProto.getDescriptor(),
                io.jcontainerd.api.events.NamespaceProto.getDescriptor(),
                io.jcontainerd.api.events.SnapshotProto.getDescriptor(),
                io.jcontainerd.api.events.TaskProto.getDescriptor(),
                io.jcontainerd.api.services.images.v1.ImageProto.getDescriptor(),
            }) {
                f.getMessageTypes().forEach(d -> add(m, d));
            }
            return Map.copyOf(m);
        }

        private static void add(Map<String, Descriptor> m, Descriptor d) {
            m.put(d.getFullName(), d);
            d.getNestedTypes().forEach(n -> add(m, n));
        }
    }

    /** Whether messages of this full name are event messages whose fields filters may read. */
    static boolean known(String fullName) {
        return Registry.BY_NAME.containsKey(fullName);
    }

    /** The decoded event, or null when the type is not an event type or the bytes do not parse. */
    static Message decode(Any any) {
        if (any == null) return null;
        String url = any.getTypeUrl();
        // containerd uses the bare full name; tolerate the "type.googleapis.com/" form too
        Descriptor d = Registry.BY_NAME.get(url.substring(url.lastIndexOf('/') + 1));
        if (d == null) return null;
        try {
            return DynamicMessage.parseFrom(d, any.getValue());
        } catch (InvalidProtocolBufferException e) {
            return null;
        }
    }
}
