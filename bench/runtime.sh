#!/bin/sh
# Running containers, jcontainerd (its default runtime: the Java shim, started by the daemon, one shim per
# namespace) next to the real containerd 1.6 with its Go shim, both driven by the real ctr on their own
# temporary root, state and socket:
#   - `ctr run --rm busybox true` latency: median of N after 2 warm-ups
#   - C containers started at once with `ctr run -d` (wall time until every ctr returned, i.e. all started)
#   - RSS and PSS of daemon + shims with I idle containers (`sleep 1000`), minus the idle daemon, per container
# A report, not a test: it exits 0 whatever the ratios. See bench/README.md.
#
#   bench/runtime.sh [-n N] [-c C] [-i I] [--no-containerd]   (root; containerd, ctr, runc, umoci, skopeo,
#                                                               busybox-static; mvn -DskipTests package first)
set -eu
N=20; C=50; I=20; CTD=/usr/bin/containerd
while [ $# -gt 0 ]; do
  case "$1" in
    -n) N=$2; shift 2 ;;
    -c) C=$2; shift 2 ;;
    -i) I=$2; shift 2 ;;
    --no-containerd) CTD=""; shift ;;
    *) echo "usage: $0 [-n N] [-c C] [-i I] [--no-containerd]" >&2; exit 2 ;;
  esac
done
[ -n "$CTD" ] && [ ! -x "$CTD" ] && CTD=""
HERE=$(cd "$(dirname "$0")/.." && pwd)
JAVA_HOME=${JCONTAINERD_JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
export JAVA_HOME
if ! ls "$HERE"/shim/target/jcontainerd-shim-*.jar >/dev/null 2>&1; then
  echo "bench: not built; run: cd $HERE && JAVA_HOME=$JAVA_HOME mvn -B -DskipTests package" >&2
  exit 1
fi
# both launchers map their AOT caches: record them if the jars are newer (no-ops otherwise)
"$HERE/scripts/aot-train.sh"
"$HERE/scripts/shim-aot-train.sh"

TMP=$(mktemp -d /tmp/jcrt.XXXXXX)
IMG="$TMP/busybox.tar"
PIDS=""      # daemons to stop
cleanup_containers() { # sock ns
  for c in $(ctr -a "$1" -n "$2" tasks ls -q 2>/dev/null); do ctr -a "$1" -n "$2" tasks kill -s KILL "$c" >/dev/null 2>&1 || true; done
  for c in $(ctr -a "$1" -n "$2" containers ls -q 2>/dev/null); do
    k=0; while [ $k -lt 50 ] && ctr -a "$1" -n "$2" tasks ls -q 2>/dev/null | grep -qx "$c"; do
      ctr -a "$1" -n "$2" tasks rm -f "$c" >/dev/null 2>&1 || sleep 0.1; k=$((k+1)); done
    ctr -a "$1" -n "$2" containers rm "$c" >/dev/null 2>&1 || true
  done
}
cleanup() {
  set +e
  [ -S "$TMP/j/j.sock" ] && cleanup_containers "$TMP/j/j.sock" bench-jc
  [ -S "$TMP/c/c.sock" ] && cleanup_containers "$TMP/c/c.sock" bench-ctd
  for p in $PIDS; do kill "$p" 2>/dev/null; done
  sleep 1
  for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
  # shims outlive their daemons by design
  for p in $(pgrep -f -- "-address $TMP/"); do kill -9 "$p" 2>/dev/null; done
  for ns in bench-jc bench-ctd; do rmdir /run/containerd/runc/$ns 2>/dev/null; done
  grep " $TMP" /proc/mounts | awk '{print $2}' | sort -r | while read -r m; do umount -l "$m"; done
  rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
mem() { # pids... -> "rss_kib pss_kib" summed
  r=0; q=0
  for p in "$@"; do
    v=$(awk '/^VmRSS:/ {print $2}' /proc/$p/status 2>/dev/null || true); r=$((r + ${v:-0}))
    v=$(awk '/^Pss:/ {print $2}' /proc/$p/smaps_rollup 2>/dev/null || true); q=$((q + ${v:-0}))
  done
  echo "$r $q"
}

# --- busybox, offline (the recipe of the tests' TestImages)
umoci init --layout "$TMP/img" >/dev/null
umoci new --image "$TMP/img:latest" >/dev/null
umoci unpack --rootless --image "$TMP/img:latest" "$TMP/b" >/dev/null
mkdir -p "$TMP/b/rootfs/bin" && cp /bin/busybox "$TMP/b/rootfs/bin/"
for a in sh echo sleep true; do ln -s busybox "$TMP/b/rootfs/bin/$a"; done
umoci repack --image "$TMP/img:latest" "$TMP/b" >/dev/null
umoci config --image "$TMP/img:latest" --config.cmd /bin/sh --config.env PATH=/bin >/dev/null
skopeo copy -q "oci:$TMP/img:latest" "docker-archive:$IMG:docker.io/library/busybox:latest"
BB=docker.io/library/busybox:latest

# one daemon's workload; prints "lat_ms conc_ms rss_kib_per_c pss_kib_per_c shims" on the last line
workload() { # sock ns shim-pattern daemon-pid
  SOCK=$1; NS=$2; PAT=$3; DPID=$4
  CTR="ctr -a $SOCK -n $NS"
  $CTR images import "$IMG" >/dev/null
  $CTR run --rm $BB w1 true >/dev/null; $CTR run --rm $BB w2 true >/dev/null
  lat=$(for k in $(seq "$N"); do
    t0=$(now_ms); $CTR run --rm $BB "r$k" true >/dev/null; t1=$(now_ms); echo $((t1 - t0))
  done | median)
  sleep 1
  set -- $(mem "$DPID"); idle_r=$1; idle_p=$2
  for k in $(seq "$I"); do $CTR run -d $BB "i$k" sleep 1000 >/dev/null; done
  sleep 2
  shims=$(pgrep -f -- "$PAT" | tr '\n' ' ')
  set -- $(mem "$DPID" $shims); tot_r=$1; tot_p=$2
  nshims=$(echo $shims | wc -w)
  cleanup_containers "$SOCK" "$NS"
  t0=$(now_ms)
  k=0; while [ $k -lt "$C" ]; do k=$((k+1)); $CTR run -d $BB "c$k" sleep 1000 >/dev/null & done
  wait
  t1=$(now_ms)
  running=$($CTR tasks ls 2>/dev/null | grep -c RUNNING || true)
  [ "$running" -eq "$C" ] || echo "warning: $running of $C running" >&2
  cleanup_containers "$SOCK" "$NS"
  echo "$lat $((t1 - t0)) $(( (tot_r - idle_r) / I )) $(( (tot_p - idle_p) / I )) $nshims"
}

echo "host: $(nproc) cpus, load $(cut -d' ' -f1-3 /proc/loadavg); N=$N C=$C I=$I"

# --- jcontainerd, embedded defaults (io.containerd.runc.v2 -> bin/jcontainerd-shim-runc-v2, shim_group namespace)
mkdir -p "$TMP/j"
"$HERE/bin/jcontainerd" --config "$TMP/j/none.toml" --root "$TMP/j/root" --state "$TMP/j/state" --address "$TMP/j/j.sock" \
  >"$TMP/j/log" 2>&1 &
JPID=$!; PIDS="$PIDS $JPID"
i=0; while [ $i -lt 300 ] && ! ctr -a "$TMP/j/j.sock" version >/dev/null 2>&1; do sleep 0.1; i=$((i+1)); done
J=$(workload "$TMP/j/j.sock" bench-jc "io.jcontainerd.shim.Main -namespace bench-jc -address $TMP/j/j.sock" $JPID | tail -n1)
kill $JPID; wait $JPID 2>/dev/null || true
for p in $(pgrep -f -- "-address $TMP/j/j.sock"); do kill -9 "$p" 2>/dev/null; done

# --- containerd 1.6 + Go shim
Cr=""
if [ -n "$CTD" ]; then
  mkdir -p "$TMP/c"
  cat > "$TMP/c/config.toml" <<TOML
version = 2
root = "$TMP/c/root"
state = "$TMP/c/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$TMP/c/c.sock"
[plugins."io.containerd.internal.v1.opt"]
  path = "$TMP/c/opt"
TOML
  "$CTD" --config "$TMP/c/config.toml" >"$TMP/c/log" 2>&1 &
  CPID=$!; PIDS="$PIDS $CPID"
  i=0; while [ $i -lt 100 ] && ! ctr -a "$TMP/c/c.sock" version >/dev/null 2>&1; do sleep 0.1; i=$((i+1)); done
  Cr=$(workload "$TMP/c/c.sock" bench-ctd "containerd-shim-runc-v2 -namespace bench-ctd -id [^ ]* -address $TMP/c/c.sock" $CPID | tail -n1)
fi

mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2fx", a / b; else print "-"}'; }
set -- $J; jl=$1; jc=$2; jr=$3; jp=$4; js=$5
printf '%-44s %14s %14s %8s %s\n' workload jcontainerd containerd ratio target
if [ -n "$Cr" ]; then set -- $Cr; cl=$1; cc=$2; cr=$3; cp=$4; cs=$5; else cl=0; cc=0; cr=0; cp=0; cs=0; fi
printf '%-44s %14s %14s %8s %s\n' "ctr run --rm latency, median (ms)" "$jl" "$cl" "$(ratio $jl $cl)" "<= 1.0x"
printf '%-44s %14s %14s %8s %s\n' "$C x ctr run -d at once, all started (ms)" "$jc" "$cc" "$(ratio $jc $cc)" "<= 1.0x"
printf '%-44s %14s %14s %8s %s\n' "RSS per idle container, $I (MiB)" "$(mib $jr)" "$(mib $cr)" "$(ratio $jr $cr)" "<= 0.5x"
printf '%-44s %14s %14s %8s %s\n' "PSS per idle container, $I (MiB)" "$(mib $jp)" "$(mib $cp)" "$(ratio $jp $cp)" "(info)"
printf '%-44s %14s %14s\n' "shim processes for the $I containers" "$js" "$cs"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
