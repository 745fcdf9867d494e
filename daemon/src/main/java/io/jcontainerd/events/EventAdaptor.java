package io.jcontainerd.events;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import io.jcontainerd.filters.Adaptor;
import java.util.List;
import java.util.Optional;

/**
 * Filter fields of an envelope: {@code namespace}, {@code topic} and {@code event.<field>...}.
 * Event fields resolve the way containerd's generated fieldpath code does: strings (and bytes) are
 * present when non-empty, bools and enums always; string maps are keyed by the rest of the path
 * joined with "."; nested event messages and Any fields holding event messages are descended into;
 * numbers, repeated fields and other messages (timestamps...) are never present.
 * Not thread-safe: one instance serves one envelope's delivery, decoding the event at most once.
 */
final class EventAdaptor implements Adaptor {
    private final Envelope envelope;
    private Message event;
    private boolean decoded;

    EventAdaptor(Envelope envelope) {
        this.envelope = envelope;
    }

    @Override
    public Optional<String> field(List<String> path) {
        if (path.isEmpty()) return Optional.empty();
        return switch (path.getFirst()) {
            case "namespace" -> nonEmpty(envelope.namespace());
            case "topic" -> nonEmpty(envelope.topic());
            case "event" -> {
                if (!decoded) {
                    event = EventTypes.decode(envelope.event());
                    decoded = true;
                }
                yield event == null ? Optional.empty() : field(event, rest(path));
            }
            default -> Optional.empty();
        };
    }

    static Optional<String> field(Message m, List<String> path) {
        if (path.isEmpty()) return Optional.empty();
        FieldDescriptor fd = m.getDescriptorForType().findFieldByName(path.getFirst());
        if (fd == null) return Optional.empty();
        if (fd.isMapField()) return mapValue(m, fd, String.join(".", rest(path)));
        if (fd.isRepeated()) return Optional.empty();
        return switch (fd.getJavaType()) {
            case STRING -> nonEmpty((String) m.getField(fd));
            case BYTE_STRING -> nonEmpty(((ByteString) m.getField(fd)).toStringUtf8());
            case BOOLEAN -> Optional.of(m.getField(fd).toString());
            case ENUM -> Optional.of(((EnumValueDescriptor) m.getField(fd)).getName());
            case MESSAGE -> {
                if (!m.hasField(fd)) yield Optional.empty();
                Message sub = (Message) m.getField(fd);
                String type = fd.getMessageType().getFullName();
                if (type.equals(Any.getDescriptor().getFullName())) {
                    Message inner = EventTypes.decode(toAny(sub));
                    yield inner == null ? Optional.empty() : field(inner, rest(path));
                }
                yield EventTypes.known(type) ? field(sub, rest(path)) : Optional.empty();
            }
            default -> Optional.empty();
        };
    }

    private static Optional<String> mapValue(Message m, FieldDescriptor fd, String key) {
        FieldDescriptor k = fd.getMessageType().findFieldByNumber(1);
        FieldDescriptor v = fd.getMessageType().findFieldByNumber(2);
        if (k.getJavaType() != FieldDescriptor.JavaType.STRING || v.getJavaType() != FieldDescriptor.JavaType.STRING) {
            return Optional.empty();
        }
        String found = null; // on the wire a later entry for a key replaces earlier ones
        int n = m.getRepeatedFieldCount(fd);
        for (int i = 0; i < n; i++) {
            Message entry = (Message) m.getRepeatedField(fd, i);
            if (key.equals(entry.getField(k))) found = (String) entry.getField(v);
        }
        return Optional.ofNullable(found);
    }

    private static Any toAny(Message m) {
        if (m instanceof Any a) return a;
        try {
            return Any.parseFrom(m.toByteString());
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            return null;
        }
    }

    private static List<String> rest(List<String> path) {
        return path.subList(1, path.size());
    }

    private static Optional<String> nonEmpty(String s) {
        return s == null || s.isEmpty() ? Optional.empty() : Optional.of(s);
    }
}
