#!/bin/sh
# Snapshot and layer-apply benchmark: jcontainerd (bin/jcontainerd of this tree) beside a real containerd,
# each on its own temporary root, in alternation, driven by one Java client. Prints medians and how many
# times as fast jcontainerd is; always exits 0 once the runs complete (a report, not a test). Needs root
# (both daemons mount). See bench/README.md.
#
#   bench/snap.sh [-n DAEMON_RUNS] [--ops N] [--apply-rounds N] [--files N] [--jcontainerd LAUNCHER]...
#                 [--containerd BINARY | --no-containerd]
set -e
HERE=$(cd "$(dirname "$0")/.." && pwd)
JAVA_HOME=${JCONTAINERD_JAVA_HOME:-${JAVA_HOME_25:-/usr/lib/jvm/temurin-25-jdk-amd64}}
export JAVA_HOME
if ! ls "$HERE"/daemon/target/jcontainerd-daemon-*.jar >/dev/null 2>&1; then
  echo "bench: jcontainerd is not built; run: cd $HERE && JAVA_HOME=$JAVA_HOME mvn -B -DskipTests package" >&2
  exit 1
fi
"$HERE/scripts/aot-train.sh"

echo "host: $(nproc) cpus, $(uname -r); java: $("$JAVA_HOME/bin/java" -version 2>&1 | head -n1)"
if [ -x /usr/bin/containerd ]; then echo "containerd: $(/usr/bin/containerd --version)"; fi
if [ -n "${JCONTAINERD_JAVA_OPTS:-}" ]; then echo "JCONTAINERD_JAVA_OPTS=$JCONTAINERD_JAVA_OPTS"; fi

# SnapBench.java uses Bench.java's daemon targets: the source launcher compiles both (same directory)
exec "$JAVA_HOME/bin/java" -XX:+UseSerialGC -Xmx1g --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow \
  -cp "$HERE/daemon/target/lib/*" "$HERE/bench/SnapBench.java" --jcontainerd "$HERE/bin/jcontainerd" "$@"
