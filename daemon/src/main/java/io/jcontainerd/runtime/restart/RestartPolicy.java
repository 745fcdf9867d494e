package io.jcontainerd.runtime.restart;

import io.jcontainerd.errdefs.ContainerdException;
import io.jcontainerd.errdefs.Errdefs;
import java.util.Map;

/**
 * A container's restart policy, from its {@link RestartLabels#POLICY} label, with containerd's syntax:
 * {@code no}, {@code always} (also the empty value), {@code unless-stopped}, or {@code on-failure} with an
 * optional {@code :N} retry limit (0 or absent: unlimited).
 */
public record RestartPolicy(String name, long maximumRetryCount) {
    private static final System.Logger LOG = System.getLogger(RestartPolicy.class.getName());

    /** Parses a policy label value; INVALID_ARGUMENT with containerd's wording for anything else. */
    public static RestartPolicy parse(String value) {
        String[] parts = (value == null ? "" : value).split(":", -1);
        String name = parts[0];
        return switch (name) {
            case "", "no", "always", "unless-stopped" -> {
                if (parts.length > 1) throw Errdefs.invalidArgument("restart policy \"%s\" not support max retry count", name);
                yield new RestartPolicy(name.isEmpty() ? "always" : name, 0);
            }
            case "on-failure" -> {
                long retries = 0;
                if (parts.length > 1) {
                    try {
                        retries = Long.parseLong(parts[1]); // only the first field counts, as in containerd
                    } catch (NumberFormatException e) {
                        throw Errdefs.invalidArgument("invalid max retry count: %s", parts[1]);
                    }
                }
                yield new RestartPolicy(name, retries);
            }
            default -> throw Errdefs.invalidArgument("restart policy \"%s\" not supported", value);
        };
    }

    /** The label form: {@code on-failure:3}, or just the name when there is no positive limit. */
    @Override
    public String toString() {
        return maximumRetryCount > 0 ? name + ":" + maximumRetryCount : name;
    }

    /**
     * containerd's restart.Reconcile: whether a container whose task is not running (exit status
     * {@code exitStatus}; 0 when there is no task) should be started again under its labels' policy.
     * An unparsable policy or count is logged and never restarts.
     */
    static boolean shouldRestart(int exitStatus, Map<String, String> labels) {
        try {
            return decide(exitStatus, labels);
        } catch (ContainerdException e) {
            LOG.log(System.Logger.Level.ERROR, "policy reconcile", Logging.brief(e));
            return false;
        }
    }

    private static boolean decide(int exitStatus, Map<String, String> labels) {
        RestartPolicy policy = parse(labels.getOrDefault(RestartLabels.POLICY, ""));
        return switch (policy.name()) {
            case "always" -> true;
            case "on-failure" -> {
                String countLabel = labels.getOrDefault(RestartLabels.COUNT, "");
                long count = 0;
                if (!countLabel.isEmpty()) {
                    try {
                        count = Long.parseLong(countLabel);
                    } catch (NumberFormatException e) {
                        throw Errdefs.invalidArgument("strconv.Atoi: parsing \"%s\": invalid syntax", countLabel);
                    }
                }
                yield exitStatus != 0 && (policy.maximumRetryCount() == 0 || count < policy.maximumRetryCount());
            }
            case "unless-stopped" -> !Boolean.parseBoolean(goBool(labels.getOrDefault(RestartLabels.EXPLICITLY_STOPPED, "")));
            default -> false; // "no"
        };
    }

    /** Go's strconv.ParseBool accepts 1/t/T/TRUE/true/True; anything else (an error there) reads as false. */
    private static String goBool(String s) {
        return switch (s) {
            case "1", "t", "T", "TRUE", "true", "True" -> "true";
            default -> "false";
        };
    }
}
