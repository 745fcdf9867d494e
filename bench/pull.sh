#!/bin/sh
# Image pull + unpack and archive import: jcontainerd with jctr beside the real containerd 1.6 with ctr,
# one workload, one invocation. The large generated test image (~230 MB of gzip layers, ~32 000 files)
# is served by a local docker-registry; each daemon runs on its own temporary root, state and socket for
# the whole invocation, and between rounds the image is removed with `ctr images rm --sync` (the
# collector then removes content and snapshots; checked empty before the next round). A report, not a
# test: exits 0 once the rounds complete. Needs root (both daemons mount). See bench/README.md.
#
#   bench/pull.sh [-n ROUNDS] [--only pull,import] [--no-containerd] [--max-concurrent-downloads N]
#
# JCTR_JAVA_OPTS is passed to every jctr (e.g. -XX:StartFlightRecording=filename=/tmp/jctr.jfr);
# JCONTAINERD_JAVA_OPTS to the daemon.
set -eu
HERE=$(cd "$(dirname "$0")/.." && pwd)
JAVA_HOME=${JCONTAINERD_JAVA_HOME:-${JAVA_HOME_25:-/usr/lib/jvm/temurin-25-jdk-amd64}}
export JAVA_HOME
N=3
ONLY=pull,import
CONTAINERD=/usr/bin/containerd
MCD=3
while [ $# -gt 0 ]; do
  case "$1" in
    -n) N=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    --no-containerd) CONTAINERD=""; shift ;;
    --max-concurrent-downloads) MCD=$2; shift 2 ;;
    *) echo "usage: bench/pull.sh [-n ROUNDS] [--only pull,import] [--no-containerd] [--max-concurrent-downloads N]" >&2; exit 2 ;;
  esac
done
[ -x "${CONTAINERD:-/nonexistent}" ] || CONTAINERD=""
CLIENT_JAR=$(ls "$HERE"/client/target/jcontainerd-client-*.jar 2>/dev/null | grep -v -- '-tests.jar' | head -n1 || true)
if [ -z "$CLIENT_JAR" ] || [ ! -f "$HERE/client/target/test-classes/io/jcontainerd/client/testing/GeneratedImages.class" ] \
   || ! ls "$HERE"/daemon/target/jcontainerd-daemon-*.jar >/dev/null 2>&1; then
  echo "bench: not built; run: cd $HERE && JAVA_HOME=$JAVA_HOME mvn -B -DskipTests package" >&2
  exit 1
fi
"$HERE/scripts/aot-train.sh"

TMP=$(mktemp -d /tmp/jpb.XXXXXX)
PIDS=""
cleanup() {
  set +e
  for p in $PIDS; do kill -TERM "$p" 2>/dev/null; done
  for p in $PIDS; do
    i=0; while kill -0 "$p" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    kill -KILL "$p" 2>/dev/null
  done
  grep " $TMP" /proc/mounts | awk '{print $2}' | sort -r | while read -r m; do umount -l "$m"; done
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "host: $(nproc) cpus, $(uname -r), load average: $(cut -d' ' -f1-3 /proc/loadavg); java: $("$JAVA_HOME/bin/java" -version 2>&1 | head -n1)"
[ -n "$CONTAINERD" ] && echo "containerd: $($CONTAINERD --version)"

# --- the image: generated once per machine, cached under client/target/test-images
eval "$("$JAVA_HOME/bin/java" -cp "$HERE/client/target/test-classes:$CLIENT_JAR:$HERE/client/target/lib/*" \
  io.jcontainerd.client.testing.GeneratedImages "$HERE/client/target/test-images")"
MB=$(awk "BEGIN {printf \"%.1f\", $COMPRESSED / 1e6}")
echo "image: $LAYERS gzip layers, $MB MB compressed, $(awk "BEGIN {printf \"%.1f\", $UNCOMPRESSED / 1e6}") MB uncompressed, $FILES files"

# --- a local registry
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$TMP/registry.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $TMP/registry
http:
  addr: 127.0.0.1:$PORT
EOF
/usr/bin/docker-registry serve "$TMP/registry.yml" >"$TMP/registry.log" 2>&1 &
PIDS="$PIDS $!"
i=0; until curl -sf "http://127.0.0.1:$PORT/v2/" >/dev/null; do sleep 0.05; i=$((i + 1)); [ $i -lt 400 ] || { cat "$TMP/registry.log"; exit 1; }; done
skopeo copy -q --dest-tls-verify=false "oci:$LAYOUT:latest" "docker://127.0.0.1:$PORT/bench/large:latest"
REF=127.0.0.1:$PORT/bench/large:latest

# --- the daemons (same layout and containerd config as bench/run.sh)
start_daemon() { # name dir -> socket on stdout
  mkdir -p "$2"
  if [ "$1" = jcontainerd ]; then
    JCONTAINERD_JAVA_OPTS=${JCONTAINERD_JAVA_OPTS:-} "$HERE/bin/jcontainerd" --config "$2/none.toml" --root "$2/root" \
      --state "$2/state" --address "$2/d.sock" >"$2/daemon.log" 2>&1 &
  else
    cat >"$2/config.toml" <<EOF
version = 2
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[plugins."io.containerd.internal.v1.opt"]
  path = "$2/opt"
EOF
    "$CONTAINERD" --config "$2/config.toml" --root "$2/root" --state "$2/state" --address "$2/d.sock" >"$2/daemon.log" 2>&1 &
  fi
  PIDS="$PIDS $!"
  echo $! >"$2/pid"
  i=0; until ctr -a "$2/d.sock" version >/dev/null 2>&1; do sleep 0.05; i=$((i + 1)); [ $i -lt 600 ] || { tail "$2/daemon.log" >&2; exit 1; }; done
}
TARGETS=jcontainerd
[ -n "$CONTAINERD" ] && TARGETS="jcontainerd containerd"
for t in $TARGETS; do start_daemon $t "$TMP/$t"; done

now_ns() { date +%s%N; }
# CPU time of a process so far, in clock ticks (utime + stime)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
TICK=$(getconf CLK_TCK)
TIME=""; [ -x /usr/bin/time ] && TIME=/usr/bin/time
# one timed run of a workload; prints "wall-seconds cpu-seconds" (cpu: daemon + client, the client's
# only when /usr/bin/time is installed)
run_once() { # target workload
  sock="$TMP/$1/d.sock"
  if [ "$1" = jcontainerd ]; then cli="$HERE/bin/jctr"; else cli=ctr; fi
  case "$2" in
    pull) set -- "$1" "$2" "$cli" -a "$sock" -n bench images pull --plain-http --max-concurrent-downloads "$MCD" "$REF" ;;
    import) set -- "$1" "$2" "$cli" -a "$sock" -n bench images import "$ARCHIVE" ;;
  esac
  t=$1; w=$2; shift 2
  dpid=$(cat "$TMP/$t/pid")
  d0=$(cpu_ticks "$dpid")
  echo "0 0" >"$TMP/$t/client.cpu"
  start=$(now_ns)
  if [ -n "$TIME" ]; then set -- "$TIME" -f "%U %S" -o "$TMP/$t/client.cpu" "$@"; fi
  if ! "$@" >"$TMP/$t/last.out" 2>&1; then echo "bench: $t $w failed:" >&2; tail -n 20 "$TMP/$t/last.out" >&2; exit 1; fi
  end=$(now_ns)
  d1=$(cpu_ticks "$dpid")
  cpu=$(awk -v d=$((d1 - d0)) -v tick="$TICK" '{printf "%.2f", d / tick + $1 + $2}' "$TMP/$t/client.cpu")
  # remove what the round made; the collector must leave neither content nor snapshots
  for img in $(ctr -a "$sock" -n bench images ls -q); do ctr -a "$sock" -n bench images rm --sync "$img" >/dev/null; done
  i=0
  while [ -n "$(ctr -a "$sock" -n bench content ls -q)" ] || [ "$(ctr -a "$sock" -n bench snapshots ls | wc -l)" -gt 1 ]; do
    sleep 0.1; i=$((i + 1))
    [ $i -lt 100 ] || { echo "bench: $t left content or snapshots after images rm --sync" >&2; exit 1; }
  done
  echo "$(awk "BEGIN {printf \"%.3f\", ($end - $start) / 1e9}") $cpu"
}

echo "rounds: $N after one discarded warm-up round per daemon and workload; max concurrent downloads $MCD"
for w in $(echo "$ONLY" | tr , ' '); do
  for t in $TARGETS; do run_once $t $w >/dev/null; done
  r=1
  while [ $r -le "$N" ]; do
    for t in $TARGETS; do
      set -- $(run_once $t $w)
      echo "$1" >>"$TMP/$t.$w"
      echo "$2" >>"$TMP/$t.$w.cpu"
      printf '  %-8s round %d %-12s %7.3f s %7.1f MB/s   cpu %6.2f s\n' "$w" $r $t "$1" "$(awk "BEGIN {print $MB / $1}")" "$2"
    done
    r=$((r + 1))
  done
done

median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
printf '\n%-14s %24s %24s %8s  %s\n' workload "jcontainerd s (MB/s)" "containerd s (MB/s)" ratio target
for w in $(echo "$ONLY" | tr , ' '); do
  jm=$(median <"$TMP/jcontainerd.$w")
  jr=$(awk "BEGIN {printf \"%.1f\", $MB / $jm}")
  if [ -n "$CONTAINERD" ]; then
    cm=$(median <"$TMP/containerd.$w")
    cr=$(awk "BEGIN {printf \"%.1f\", $MB / $cm}")
    ratio=$(awk "BEGIN {printf \"%.2f\", $cm / $jm}")
    met=$(awk "BEGIN {print ($ratio >= 1.5) ? \"met\" : \"NOT met\"}")
    printf '%-14s %15.3f (%6.1f) %15.3f (%6.1f) %7sx  >= 1.5x %s\n' "$w" "$jm" "$jr" "$cm" "$cr" "$ratio" "$met"
    jc=$(median <"$TMP/jcontainerd.$w.cpu"); cc=$(median <"$TMP/containerd.$w.cpu")
    printf '%-14s %24.2f %24.2f %7sx  (info: CPU s, daemon + client; ratio = containerd / jcontainerd)\n' "  cpu" "$jc" "$cc" \
      "$(awk "BEGIN {printf \"%.2f\", $cc / $jc}")"
  else
    printf '%-14s %15.3f (%6.1f)\n' "$w" "$jm" "$jr"
  fi
done
echo "medians; MB/s = compressed image bytes / wall time of the client command; ratio = jcontainerd throughput / containerd's"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
