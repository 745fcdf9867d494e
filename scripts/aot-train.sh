#!/bin/sh
# Records the JDK's AOT cache for the daemon (JEP 483/514): one training run that boots a daemon on a
# scratch root, answers a Version call and stops. Later launches map the cache and skip most class
# loading and linking. Rebuilt whenever the jar is newer than the cache.
set -e
cd "$(dirname "$0")/.."
. scripts/common.sh
JAR=$(ls daemon/target/jcontainerd-daemon-*.jar | head -n1)
CACHE=daemon/target/jcontainerd.aot
if [ -f "$CACHE" ] && [ "$CACHE" -nt "$JAR" ]; then exit 0; fi
rm -f "$CACHE"
TMP=$(mktemp -d /tmp/jcd-aot.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
JCONTAINERD_JAVA_OPTS="-XX:AOTCacheOutput=$CACHE -Xlog:aot=error -Xlog:cds=error" \
  bin/jcontainerd --config "$TMP/none.toml" --root "$TMP/root" --state "$TMP/state" --address "$TMP/s.sock" \
  >"$TMP/log" 2>&1 &
PID=$!
i=0
while [ $i -lt 200 ] && ! [ -S "$TMP/s.sock" ]; do sleep 0.05; i=$((i+1)); done
if command -v ctr >/dev/null 2>&1; then
  ctr --address "$TMP/s.sock" version >/dev/null 2>&1 || true
  ctr --address "$TMP/s.sock" plugins ls >/dev/null 2>&1 || true
  ctr --address "$TMP/s.sock" namespaces ls >/dev/null 2>&1 || true
fi
kill -TERM $PID
wait $PID || { echo "AOT training run failed:" >&2; cat "$TMP/log" >&2; rm -f "$CACHE"; exit 0; }
