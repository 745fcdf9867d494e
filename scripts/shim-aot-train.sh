#!/bin/sh
# Records the JDK's AOT cache for the Java shim (JEP 483/514): one training run of the shim's `train`
# action (Task service over ttrpc, events, runc driving a busybox container when runc and busybox are
# installed, else the protocol alone). Every shim JVM then maps the cache and skips most class loading
# and linking. Rebuilt whenever the jar is newer than the cache. Needs root for runc.
set -e
cd "$(dirname "$0")/.."
JAR=$(ls shim/target/jcontainerd-shim-*.jar | head -n1)
CACHE=shim/target/jcontainerd-shim.aot
if [ -f "$CACHE" ] && [ "$CACHE" -nt "$JAR" ]; then exit 0; fi
rm -f "$CACHE"
LOG=$(mktemp /tmp/jcs-aot.XXXXXX)
if ! JCONTAINERD_SHIM_JAVA_OPTS="-XX:AOTCacheOutput=$CACHE -Xlog:aot=error -Xlog:cds=error" \
    bin/jcontainerd-shim-runc-v2 -namespace jcshim-train train >"$LOG" 2>&1; then
  echo "shim AOT training run failed:" >&2; cat "$LOG" >&2; rm -f "$CACHE"
fi
rm -f "$LOG"
