#!/bin/sh
# Side-by-side benchmark: jcontainerd (bin/jcontainerd of this tree) against a real containerd, each on
# its own temporary root/state/socket, in alternation. Prints medians, minimums and ratios; always exits 0
# once the runs complete (a report, not a test). See bench/README.md.
#
#   bench/run.sh [-n RUNS] [--idle-ms MS] [--jcontainerd LAUNCHER] [--containerd BINARY | --no-containerd]
set -e
HERE=$(cd "$(dirname "$0")/.." && pwd)
JAVA_HOME=${JCONTAINERD_JAVA_HOME:-${JAVA_HOME_25:-/usr/lib/jvm/temurin-25-jdk-amd64}}
export JAVA_HOME
if ! ls "$HERE"/daemon/target/jcontainerd-daemon-*.jar >/dev/null 2>&1; then
  echo "bench: jcontainerd is not built; run: cd $HERE && JAVA_HOME=$JAVA_HOME mvn -B -DskipTests package" >&2
  exit 1
fi
# the launcher maps the AOT cache when there is one: record it if the jar is newer (no-op otherwise)
"$HERE/scripts/aot-train.sh"

echo "host: $(nproc) cpus, $(uname -r); java: $("$JAVA_HOME/bin/java" -version 2>&1 | head -n1)"
if [ -x /usr/bin/containerd ]; then echo "containerd: $(/usr/bin/containerd --version)"; fi
if [ -f "$HERE/daemon/target/jcontainerd.aot" ]; then echo "jcontainerd: AOT cache present"; fi
if [ -n "${JCONTAINERD_JAVA_OPTS:-}" ]; then echo "JCONTAINERD_JAVA_OPTS=$JCONTAINERD_JAVA_OPTS"; fi

# the client is the daemon's own grpc-java (from its lib directory), run by the source launcher;
# the benchmark program stops every daemon and removes every directory it made, also on Ctrl-C
exec "$JAVA_HOME/bin/java" -XX:+UseSerialGC --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow \
  -cp "$HERE/daemon/target/lib/*" "$HERE/bench/Bench.java" --jcontainerd "$HERE/bin/jcontainerd" "$@"
