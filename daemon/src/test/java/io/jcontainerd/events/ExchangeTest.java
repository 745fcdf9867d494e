package io.jcontainerd.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.Timestamp;
import io.jcontainerd.api.events.ContainerCreate;
import io.jcontainerd.api.events.ContainerUpdate;
import io.jcontainerd.api.events.NamespaceCreate;
import io.jcontainerd.api.events.TaskCreate;
import io.jcontainerd.api.events.TaskExit;
import io.jcontainerd.api.events.TaskIO;
import io.jcontainerd.api.services.images.v1.ImageCreate;
import io.jcontainerd.errdefs.ContainerdException;
import io.jcontainerd.errdefs.Errdefs;
import io.jcontainerd.errdefs.ErrorKind;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class ExchangeTest {
    static final Instant NOW = Instant.parse("2024-05-06T07:08:09.123456789Z");

    /** containerd's identifier rules, standing in for the daemon's namespace validator. */
    static final Consumer<String> NAMESPACES = ns -> {
        String problem = Topics.identifierProblem(ns);
        if (problem != null) throw Errdefs.invalidArgument("%s", problem);
    };

    final Exchange exchange = new Exchange(Clock.fixed(NOW, ZoneOffset.UTC), NAMESPACES);

    static Envelope next(Subscription s) throws Exception {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return s.next();
            } catch (InterruptedException e) {
                throw new RuntimeException(e);
            }
        }).get(5, TimeUnit.SECONDS);
    }

    @Test
    void publishPacksBareTypeUrlAndStampsFromClock() throws Exception {
        try (Subscription s = exchange.subscribe(List.of())) {
            NamespaceCreate ev = NamespaceCreate.newBuilder().setName("ns1").putLabels("a", "b").build();
            exchange.publish("default", "/namespaces/create", ev);
            Envelope e = next(s);
            assertThat(e.timestamp()).isEqualTo(NOW);
            assertThat(e.namespace()).isEqualTo("default");
            assertThat(e.topic()).isEqualTo("/namespaces/create");
            assertThat(e.event().getTypeUrl()).isEqualTo("containerd.events.NamespaceCreate");
            assertThat(NamespaceCreate.parseFrom(e.event().getValue())).isEqualTo(ev);
        }
    }

    @Test
    void imageEventsUseTheirServicePackage() throws Exception {
        try (Subscription s = exchange.subscribe(List.of("event.name==docker.io/library/alpine:latest"))) {
            exchange.publish("default", "/images/create", ImageCreate.newBuilder().setName("docker.io/library/alpine:latest").build());
            assertThat(next(s).event().getTypeUrl()).isEqualTo("containerd.services.images.v1.ImageCreate");
        }
    }

    @Test
    void publishingAnAnySendsItUnchanged() throws Exception {
        Any any = Any.newBuilder().setTypeUrl("example.Custom").setValue(ByteString.copyFromUtf8("x")).build();
        try (Subscription s = exchange.subscribe(List.of())) {
            exchange.publish("default", "/custom/thing", any);
            assertThat(next(s).event()).isEqualTo(any);
        }
    }

    @Test
    void filtersOnEnvelopeAndEventFields() throws Exception {
        ContainerCreate cc = ContainerCreate.newBuilder().setId("c1").setImage("alpine")
                .setRuntime(ContainerCreate.Runtime.newBuilder().setName("io.containerd.runc.v2")).build();
        ContainerUpdate cu = ContainerUpdate.newBuilder().setId("c1").putLabels("a.b", "v").putLabels("empty", "").build();
        TaskCreate tc = TaskCreate.newBuilder().setContainerId("c1").setPid(42)
                .setIo(TaskIO.newBuilder().setStdout("/fifo/out")).build();
        TaskExit te = TaskExit.newBuilder().setContainerId("c1").setId("c1").setExitStatus(137)
                .setExitedAt(Timestamp.newBuilder().setSeconds(1)).build();

        record Case(String filter, boolean cc, boolean cu, boolean tc, boolean te) {}
        List<Case> cases = List.of(
                new Case("topic==\"/containers/create\"", true, false, false, false),
                new Case("topic~=|^/tasks/|", false, false, true, true),
                new Case("namespace==ns2", false, true, false, false),
                new Case("namespace", true, true, true, true),
                new Case("event.id==c1", true, true, false, true),
                new Case("event.container_id==c1", false, false, true, true),
                new Case("event.image", true, false, false, false),
                new Case("event.runtime.name~=runc", true, false, false, false),
                new Case("event.runtime", false, false, false, false),
                new Case("event.labels.\"a.b\"==v", false, true, false, false),
                new Case("event.labels.a.b==v", false, true, false, false),
                new Case("event.labels.empty", false, true, false, false),
                new Case("event.labels.nope", false, false, false, false),
                new Case("event.io.stdout==\"/fifo/out\"", false, false, true, false),
                new Case("event.io.terminal==false", false, false, true, false), // bools are always present
                new Case("event.io.stdin", false, false, false, false),
                new Case("event.pid", false, false, false, false),               // numbers are not filterable
                new Case("event.exit_status==137", false, false, false, false),
                new Case("event.exited_at", false, false, false, false),
                new Case("event", false, false, false, false),
                new Case("event.nosuch!=x", true, true, true, true),
                new Case("topic==\"/tasks/exit\",event.id==c1", false, false, false, true));

        List<Subscription> subs = new ArrayList<>();
        for (Case c : cases) subs.add(exchange.subscribe(List.of(c.filter())));
        exchange.publish("ns1", "/containers/create", cc);
        exchange.publish("ns2", "/containers/update", cu);
        exchange.publish("ns1", "/tasks/create", tc);
        exchange.publish("ns1", "/tasks/exit", te);
        for (int i = 0; i < cases.size(); i++) {
            Case c = cases.get(i);
            List<String> expected = new ArrayList<>();
            if (c.cc()) expected.add("/containers/create");
            if (c.cu()) expected.add("/containers/update");
            if (c.tc()) expected.add("/tasks/create");
            if (c.te()) expected.add("/tasks/exit");
            assertThat(drain(subs.get(i))).as(c.filter()).isEqualTo(expected);
        }
    }

    /** Topics queued so far; publishing is synchronous, so everything published is already queued. */
    static List<String> drain(Subscription s) {
        List<String> topics = new ArrayList<>();
        for (Envelope e; (e = s.poll()) != null; ) topics.add(e.topic());
        return topics;
    }

    @Test
    void slashStartsAQuoteSoTopicsAreWrittenQuoted() {
        // as in containerd, where '/' also delimits regular expressions: topic=="/tasks/exit"
        assertInvalid(() -> exchange.subscribe(List.of("topic==/tasks/exit")), "failed parsing subscription filters: filters: parse error at position 7");
        assertThat(exchange.subscriberCount()).isZero();
    }

    @Test
    void filterListIsOred() throws Exception {
        try (Subscription s = exchange.subscribe(List.of("topic==\"/a\"", "namespace==other"))) {
            exchange.publish("default", "/a", TaskExit.getDefaultInstance());
            exchange.publish("default", "/b", TaskExit.getDefaultInstance());
            exchange.publish("other", "/c", TaskExit.getDefaultInstance());
            assertThat(drain(s)).containsExactly("/a", "/c");
        }
    }

    @Test
    void unknownEventTypesHaveNoEventFields() throws Exception {
        Envelope odd = new Envelope(NOW, "default", "/x", Any.newBuilder().setTypeUrl("example.Unknown").build());
        Envelope garbage = new Envelope(NOW, "default", "/y",
                Any.newBuilder().setTypeUrl("containerd.events.TaskExit").setValue(ByteString.copyFrom(new byte[] {(byte) 0xff})).build());
        Envelope prefixed = new Envelope(NOW, "default", "/z",
                Any.pack(TaskExit.newBuilder().setId("t").build()));
        try (Subscription s = exchange.subscribe(List.of("event.id==t", "event.id!=t"))) {
            exchange.forward(odd);
            exchange.forward(garbage);
            exchange.forward(prefixed);
            // absent fields read as "" for != ; the type.googleapis.com/ form still decodes
            assertThat(drain(s)).containsExactly("/x", "/y", "/z");
        }
        try (Subscription s = exchange.subscribe(List.of("event.id==t"))) {
            exchange.forward(prefixed);
            exchange.forward(odd);
            assertThat(drain(s)).containsExactly("/z");
        }
    }

    @Test
    void forwardDeliversTheEnvelopeUnchanged() throws Exception {
        Instant then = Instant.parse("2020-01-01T00:00:00Z");
        Envelope env = new Envelope(then, "k8s.io", "/tasks/exit",
                Any.newBuilder().setTypeUrl("containerd.events.TaskExit").setValue(TaskExit.newBuilder().setId("x").build().toByteString()).build());
        try (Subscription s = exchange.subscribe(List.of("namespace==k8s.io"))) {
            exchange.forward(env);
            assertThat(next(s)).isSameAs(env);
        }
    }

    @Test
    void forwardValidation() {
        Any ev = Any.getDefaultInstance();
        assertInvalid(() -> exchange.forward(new Envelope(NOW, "Bad NS", "/a", ev)), "event envelope has invalid namespace: identifier \"Bad NS\" must match");
        assertInvalid(() -> exchange.forward(new Envelope(NOW, "", "/a", ev)), "event envelope has invalid namespace: identifier must not be empty");
        assertInvalid(() -> exchange.forward(new Envelope(NOW, "ns", "a", ev)), "envelope topic \"a\": must start with '/'");
        assertInvalid(() -> exchange.forward(new Envelope(null, "ns", "/a", ev)), "timestamp must be set on forwarded event");
        assertInvalid(() -> exchange.forward(new Envelope(Instant.parse("0001-01-01T00:00:00Z"), "ns", "/a", ev)), "timestamp must be set");
    }

    @Test
    void publishValidation() {
        TaskExit ev = TaskExit.getDefaultInstance();
        assertThatThrownBy(() -> exchange.publish("", "/a", ev))
                .isInstanceOfSatisfying(ContainerdException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.FAILED_PRECONDITION))
                .hasMessage("failed publishing event: namespace is required");
        assertInvalid(() -> exchange.publish("a..b", "/a", ev), "failed publishing event: identifier \"a..b\" must match");
        assertInvalid(() -> exchange.publish("default", "", ev), "envelope topic \"\": must not be empty");
        assertInvalid(() -> exchange.publish("default", "/tasks//exit", ev), "envelope topic \"/tasks//exit\": failed validation on component \"\"");
    }

    @Test
    void badSubscriptionFilters() {
        assertInvalid(() -> exchange.subscribe(List.of("topic==\"/a\"", "topic==")),
                "failed parsing subscription filters: filters: parse error at position 7 in \"topic==\": expected value or quoted");
        assertThat(exchange.subscriberCount()).isZero();
    }

    @Test
    void slowSubscriberIsDroppedWithoutBlockingPublishers() throws Exception {
        Exchange small = new Exchange(Clock.systemUTC(), NAMESPACES, 4);
        Subscription slow = small.subscribe(List.of());
        Subscription fast = small.subscribe(List.of());
        List<String> fastGot = new ArrayList<>();
        assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
            for (int i = 0; i < 10; i++) {
                small.publish("default", "/e/n" + i, TaskExit.getDefaultInstance());
                fastGot.add(fast.next().topic()); // keeps up
            }
        });
        assertThat(fastGot).hasSize(10);
        assertThat(fast.dropped()).isFalse();
        assertThat(slow.dropped()).isTrue();
        assertThat(small.subscriberCount()).isEqualTo(1);
        // what was queued before the drop is still handed out, then the end
        List<String> slowGot = new ArrayList<>();
        for (Envelope e; (e = next(slow)) != null; ) slowGot.add(e.topic());
        assertThat(slowGot).containsExactly("/e/n0", "/e/n1", "/e/n2", "/e/n3");
        fast.close();
        assertThat(small.subscriberCount()).isZero();
    }

    @Test
    void closeWakesABlockedReader() throws Exception {
        Subscription s = exchange.subscribe(List.of());
        CompletableFuture<Envelope> reader = CompletableFuture.supplyAsync(() -> {
            try {
                return s.next();
            } catch (InterruptedException e) {
                throw new RuntimeException(e);
            }
        });
        Thread.sleep(50);
        assertThat(reader).isNotDone();
        s.close();
        assertThat(reader.get(5, TimeUnit.SECONDS)).isNull();
        assertThat(s.dropped()).isFalse();
        assertThat(exchange.subscriberCount()).isZero();
        exchange.publish("default", "/after/close", TaskExit.getDefaultInstance()); // no one left; no error
        s.close(); // idempotent
    }

    static void assertInvalid(org.assertj.core.api.ThrowableAssert.ThrowingCallable call, String messagePrefix) {
        assertThatThrownBy(call)
                .isInstanceOfSatisfying(ContainerdException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT))
                .hasMessageStartingWith(messagePrefix);
    }
}
