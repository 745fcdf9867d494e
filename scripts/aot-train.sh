#!/bin/sh
# Prepares a built tree for fast starts (bin/jcontainerd uses whatever is there):
# 1. sqlite-jdbc's native library, extracted once to daemon/target/native/ (otherwise the driver runs
#    `uname` and copies it to /tmp at every start), and Netty's epoll library to daemon/target/native-netty/
#    (otherwise Netty copies it out of its jar to /tmp at every start);
# 2. the JDK's AOT cache for the daemon (JEP 483/514/515): one training run that boots a daemon on a
#    scratch root, answers ctr's version, plugins and namespaces calls and stops. Later launches map
#    the cache and skip most class loading and linking.
# Each step is redone only when the jar (or bin/jcontainerd, whose flags the cache must match) is newer.
# The cache is recorded after the libraries are in place, since the launcher's flags depend on them.
set -e
cd "$(dirname "$0")/.."
. scripts/common.sh
JAR=$(ls daemon/target/jcontainerd-daemon-*.jar | grep -v -- "-tests.jar" | head -n1)

SQLITE_JAR=$(ls daemon/target/lib/sqlite-jdbc-*.jar 2>/dev/null | head -n1)
NATIVE=daemon/target/native
if [ -n "$SQLITE_JAR" ] && ! [ "$NATIVE/libsqlitejdbc.so" -nt "$SQLITE_JAR" ]; then
  case "$(uname -m)" in
    x86_64|amd64) ARCH=x86_64 ;;
    aarch64|arm64) ARCH=aarch64 ;;
    *) ARCH="" ;;
  esac
  OS=Linux
  if ls /lib/ld-musl-* >/dev/null 2>&1; then OS=Linux-Musl; fi
  rm -rf "$NATIVE"
  if [ -n "$ARCH" ]; then
    mkdir -p "$NATIVE"
    ENTRY="org/sqlite/native/$OS/$ARCH/libsqlitejdbc.so"
    (cd "$NATIVE" && "$JAVA_HOME/bin/jar" xf "../lib/$(basename "$SQLITE_JAR")" "$ENTRY" && mv "$ENTRY" . && rm -rf org) || true
    # jar keeps the entry's 1980 date; without the file the driver extracts to /tmp itself, as before
    if [ -s "$NATIVE/libsqlitejdbc.so" ]; then touch "$NATIVE/libsqlitejdbc.so"; else rm -rf "$NATIVE"; fi
  fi
fi

# Netty's epoll transport (shaded into grpc-netty-shaded): without it on java.library.path, every start
# reads the library out of the jar, patches its shaded id and writes it to /tmp before loading it
NETTY_JAR=$(ls daemon/target/lib/grpc-netty-shaded-*.jar 2>/dev/null | head -n1)
EPOLL_DIR=daemon/target/native-netty
case "$(uname -m)" in
  x86_64|amd64) EPOLL_LIB=libio_grpc_netty_shaded_netty_transport_native_epoll_x86_64.so ;;
  aarch64|arm64) EPOLL_LIB=libio_grpc_netty_shaded_netty_transport_native_epoll_aarch_64.so ;;
  *) EPOLL_LIB="" ;;
esac
if [ -n "$NETTY_JAR" ] && [ -n "$EPOLL_LIB" ] && ! [ "$EPOLL_DIR/$EPOLL_LIB" -nt "$NETTY_JAR" ]; then
  rm -rf "$EPOLL_DIR"
  mkdir -p "$EPOLL_DIR"
  (cd "$EPOLL_DIR" && "$JAVA_HOME/bin/jar" xf "../lib/$(basename "$NETTY_JAR")" "META-INF/native/$EPOLL_LIB" \
    && mv "META-INF/native/$EPOLL_LIB" . && rm -rf META-INF) || true
  # without the file Netty extracts it itself, as before
  if [ -s "$EPOLL_DIR/$EPOLL_LIB" ]; then touch "$EPOLL_DIR/$EPOLL_LIB"; else rm -rf "$EPOLL_DIR"; fi
fi

CACHE=daemon/target/jcontainerd.aot
if [ -f "$CACHE" ] && [ "$CACHE" -nt "$JAR" ] && [ "$CACHE" -nt bin/jcontainerd ]; then exit 0; fi
rm -f "$CACHE"
TMP=$(mktemp -d /tmp/jcd-aot.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
# Only the boot path goes into the cache: the JVM loads every class the cache holds at each start
# (AOT-linked classes are loaded eagerly), so a class there costs every boot and every daemon's RSS,
# whether used or not. Hence no config file (the TOML reader loads only when one exists), and
# only what `ctr version` and `ctr plugins ls` ask; other services bind on their first call.
JCONTAINERD_JAVA_OPTS="-XX:AOTCacheOutput=$CACHE -Xlog:aot=error -Xlog:cds=error" \
  bin/jcontainerd --config "$TMP/none.toml" --root "$TMP/root" --state "$TMP/state" --address "$TMP/s.sock" \
  >"$TMP/log" 2>&1 &
PID=$!
i=0
while [ $i -lt 400 ] && ! [ -S "$TMP/s.sock" ] && kill -0 $PID 2>/dev/null; do sleep 0.05; i=$((i+1)); done
if command -v ctr >/dev/null 2>&1; then
  ctr --address "$TMP/s.sock" version >/dev/null 2>&1 || true
  ctr --address "$TMP/s.sock" plugins ls >/dev/null 2>&1 || true
fi
kill -TERM $PID 2>/dev/null || true
# the JVM writes the cache on exit; without one the daemon still starts, only slower
if ! wait $PID || ! [ -f "$CACHE" ]; then
  echo "AOT training run failed (continuing without the cache):" >&2
  cat "$TMP/log" >&2
  rm -f "$CACHE"
fi
