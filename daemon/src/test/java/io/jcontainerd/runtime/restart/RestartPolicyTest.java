package io.jcontainerd.runtime.restart;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jcontainerd.errdefs.ContainerdException;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RestartPolicyTest {

    @Test
    void parsesContainerdsPolicies() {
        assertThat(RestartPolicy.parse("")).isEqualTo(new RestartPolicy("always", 0));
        assertThat(RestartPolicy.parse("always")).hasToString("always");
        assertThat(RestartPolicy.parse("no")).hasToString("no");
        assertThat(RestartPolicy.parse("unless-stopped")).hasToString("unless-stopped");
        assertThat(RestartPolicy.parse("on-failure")).isEqualTo(new RestartPolicy("on-failure", 0));
        assertThat(RestartPolicy.parse("on-failure:3")).hasToString("on-failure:3");
        assertThat(RestartPolicy.parse("on-failure:0")).hasToString("on-failure");
        assertThat(RestartPolicy.parse("on-failure:2:junk").maximumRetryCount()).isEqualTo(2); // only the first field
    }

    @Test
    void rejectsWhatContainerdRejects() {
        assertThatThrownBy(() -> RestartPolicy.parse("sometimes")).isInstanceOf(ContainerdException.class)
                .hasMessage("restart policy \"sometimes\" not supported");
        assertThatThrownBy(() -> RestartPolicy.parse("always:3")).hasMessage("restart policy \"always\" not support max retry count");
        assertThatThrownBy(() -> RestartPolicy.parse("on-failure:x")).hasMessage("invalid max retry count: x");
        assertThatThrownBy(() -> RestartPolicy.parse("on-failure:")).hasMessage("invalid max retry count: ");
    }

    private static Map<String, String> labels(String... kv) {
        Map<String, String> m = new HashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put(kv[i], kv[i + 1]);
        return m;
    }

    @Test
    void decidesRestartsLikeContainerdsReconcile() {
        assertThat(RestartPolicy.shouldRestart(0, labels())).isTrue();
        assertThat(RestartPolicy.shouldRestart(0, labels(RestartLabels.POLICY, "always"))).isTrue();
        assertThat(RestartPolicy.shouldRestart(1, labels(RestartLabels.POLICY, "no"))).isFalse();
        assertThat(RestartPolicy.shouldRestart(137, labels(RestartLabels.POLICY, "bogus"))).isFalse();

        assertThat(RestartPolicy.shouldRestart(0, labels(RestartLabels.POLICY, "on-failure"))).isFalse();
        assertThat(RestartPolicy.shouldRestart(1, labels(RestartLabels.POLICY, "on-failure"))).isTrue();
        assertThat(RestartPolicy.shouldRestart(1, labels(RestartLabels.POLICY, "on-failure", RestartLabels.COUNT, "99"))).isTrue();
        assertThat(RestartPolicy.shouldRestart(1, labels(RestartLabels.POLICY, "on-failure:2", RestartLabels.COUNT, "1"))).isTrue();
        assertThat(RestartPolicy.shouldRestart(1, labels(RestartLabels.POLICY, "on-failure:2", RestartLabels.COUNT, "2"))).isFalse();
        assertThat(RestartPolicy.shouldRestart(1, labels(RestartLabels.POLICY, "on-failure:2", RestartLabels.COUNT, "x"))).isFalse();

        assertThat(RestartPolicy.shouldRestart(0, labels(RestartLabels.POLICY, "unless-stopped"))).isTrue();
        assertThat(RestartPolicy.shouldRestart(0, labels(RestartLabels.POLICY, "unless-stopped",
                RestartLabels.EXPLICITLY_STOPPED, "true"))).isFalse();
        assertThat(RestartPolicy.shouldRestart(0, labels(RestartLabels.POLICY, "unless-stopped",
                RestartLabels.EXPLICITLY_STOPPED, "1"))).isFalse();
        assertThat(RestartPolicy.shouldRestart(0, labels(RestartLabels.POLICY, "unless-stopped",
                RestartLabels.EXPLICITLY_STOPPED, "yes"))).isTrue(); // not a Go bool: not stopped
    }

    @Test
    void logLabelsBecomeTaskStdio() {
        assertThat(RestartMonitor.fileUri("/var/log/app.log")).isEqualTo("file:///var/log/app.log");
        assertThat(RestartMonitor.fileUri("/var/log/../log/a b")).isEqualTo("file:///var/log/a%20b");
        assertThatThrownBy(() -> RestartMonitor.fileUri("rel/log")).hasMessage("absolute path needed");
        assertThat(RestartMonitor.checkedUri("binary:///usr/bin/logger?tag=x")).isEqualTo("binary:///usr/bin/logger?tag=x");
        assertThatThrownBy(() -> RestartMonitor.checkedUri("file:///a\nb")).isInstanceOf(ContainerdException.class);
    }

    @Test
    void intervalDefaultsToTenSecondsAndZeroMeansTheDefault() {
        assertThat(RestartConfig.defaults().interval()).hasSeconds(10);
        assertThat(new RestartConfig(java.time.Duration.ZERO).effectiveInterval()).hasSeconds(10);
    }
}
