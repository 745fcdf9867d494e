#!/bin/sh
# Content and metadata throughput: jcontainerd (bin/jcontainerd of this tree) beside a real containerd,
# each on its own temporary root/state/socket, driven by one Java gRPC client. Prints per-run numbers,
# medians and jcontainerd/containerd ratios. See bench/README.md.
#
#   bench/io.sh [-n RUNS] [--size-mib MIB] [--tx-seconds S] [--only write,read,tx] [--containerd BINARY | --no-containerd]
set -e
HERE=$(cd "$(dirname "$0")/.." && pwd)
JAVA_HOME=${JCONTAINERD_JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
export JAVA_HOME
if ! ls "$HERE"/daemon/target/jcontainerd-daemon-*.jar >/dev/null 2>&1; then
  echo "bench: jcontainerd is not built; run: cd $HERE && JAVA_HOME=$JAVA_HOME mvn -B -DskipTests package" >&2
  exit 1
fi
# the launcher maps the AOT cache when there is one: record it if the jar is newer (no-op otherwise)
"$HERE/scripts/aot-train.sh"
echo "host: $(nproc) cpus, $(uname -r); java: $("$JAVA_HOME/bin/java" -version 2>&1 | head -n1)"
if [ -x /usr/bin/containerd ]; then echo "containerd: $(/usr/bin/containerd --version)"; fi
if [ -n "${JCONTAINERD_JAVA_OPTS:-}" ]; then echo "JCONTAINERD_JAVA_OPTS=$JCONTAINERD_JAVA_OPTS"; fi
# the client is the daemon's own grpc-java and generated stubs (its lib directory), run from source
exec "$JAVA_HOME/bin/java" -XX:+UseSerialGC -Xmx1g --enable-native-access=ALL-UNNAMED \
  --sun-misc-unsafe-memory-access=allow \
  -cp "$HERE/daemon/target/lib/*" "$HERE/bench/IoBench.java" --jcontainerd "$HERE/bin/jcontainerd" "$@"
