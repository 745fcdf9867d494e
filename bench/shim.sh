#!/bin/sh
# Java shim vs Debian's Go shim, both driven by the real containerd 1.6 and ctr:
#   - `start` latency of the shim binary alone (the time containerd waits for the address), median of N
#   - `ctr run --rm` latency (create, start, wait, delete through the shim), median of N
#   - RSS per container: N idle containers (`sleep`), each with its own shim, summed shim RSS / N
#   - the same with all N containers in one shim (containerd's group annotation io.containerd.runc.v2.group)
# Usage: bench/shim.sh [N]   (root; needs containerd, ctr, runc, umoci, skopeo, busybox-static; mvn package first)
set -eu
N=${1:-10}
HERE=$(cd "$(dirname "$0")/.." && pwd)
OURS="$HERE/bin/jcontainerd-shim-runc-v2"
DEBIAN=/usr/bin/containerd-shim-runc-v2
TMP=$(mktemp -d /tmp/jcs-bench.XXXXXX)
NS=shimbench
CPID=""
cleanup() {
  set +e
  if [ -n "$CPID" ]; then
    for c in $(ctr -a "$TMP/c.sock" -n $NS tasks ls -q 2>/dev/null); do ctr -a "$TMP/c.sock" -n $NS tasks kill -s KILL "$c" >/dev/null 2>&1; done
    sleep 0.5
    for c in $(ctr -a "$TMP/c.sock" -n $NS containers ls -q 2>/dev/null); do
      ctr -a "$TMP/c.sock" -n $NS tasks rm -f "$c" >/dev/null 2>&1; ctr -a "$TMP/c.sock" -n $NS containers rm "$c" >/dev/null 2>&1
    done
    kill "$CPID" 2>/dev/null; wait "$CPID" 2>/dev/null
  fi
  rmdir /run/containerd/runc/$NS 2>/dev/null
  for p in $(pgrep -f "start-bench-$$" ) $(pgrep -f -- "-namespace $NS "); do kill -9 "$p" 2>/dev/null; done
  grep " $TMP" /proc/mounts | awk '{print $2}' | sort -r | while read -r m; do umount -l "$m"; done
  rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# --- a busybox image, offline
umoci init --layout "$TMP/img" >/dev/null
umoci new --image "$TMP/img:latest" >/dev/null
umoci unpack --rootless --image "$TMP/img:latest" "$TMP/b" >/dev/null
mkdir -p "$TMP/b/rootfs/bin" && cp /bin/busybox "$TMP/b/rootfs/bin/"
for a in sh echo sleep true; do ln -s busybox "$TMP/b/rootfs/bin/$a"; done
umoci repack --image "$TMP/img:latest" "$TMP/b" >/dev/null
umoci config --image "$TMP/img:latest" --config.cmd /bin/sh --config.env PATH=/bin >/dev/null
skopeo copy -q "oci:$TMP/img:latest" "docker-archive:$TMP/busybox.tar:docker.io/library/busybox:latest"

# --- containerd with our shim on its PATH as runtime io.containerd.jcd.v2
mkdir -p "$TMP/bin"
ln -s "$OURS" "$TMP/bin/containerd-shim-jcd-v2"
cat > "$TMP/config.toml" <<TOML
version = 2
root = "$TMP/root"
state = "$TMP/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$TMP/c.sock"
TOML
PATH="$TMP/bin:$PATH" containerd --config "$TMP/config.toml" >"$TMP/containerd.log" 2>&1 &
CPID=$!
i=0; while [ $i -lt 100 ] && ! ctr -a "$TMP/c.sock" version >/dev/null 2>&1; do sleep 0.1; i=$((i+1)); done
CTR="ctr -a $TMP/c.sock -n $NS"
$CTR images import "$TMP/busybox.tar" >/dev/null

# --- start latency of the binary alone
start_latency() { # shim
  mkdir -p "$TMP/sb"; echo '{"ociVersion":"1.0.2"}' > "$TMP/sb/config.json"
  for k in $(seq "$N"); do
    t0=$(now_ms)
    a=$(cd "$TMP/sb" && TTRPC_ADDRESS="$TMP/none.ttrpc" "$1" -namespace $NS -address "$TMP/start-bench-$$" \
        -publish-binary /bin/true -id "s$k" start </dev/null)
    t1=$(now_ms)
    echo $((t1 - t0))
    for p in $(pgrep -f -- "-id s$k -address $TMP/start-bench-$$"); do kill -9 "$p"; done
    rm -f "${a#unix://}"
  done | median
}

run_latency() { # runtime
  $CTR run --rm --runtime "$1" docker.io/library/busybox:latest warm true >/dev/null
  for k in $(seq "$N"); do
    t0=$(now_ms); $CTR run --rm --runtime "$1" docker.io/library/busybox:latest "r$k" true >/dev/null; t1=$(now_ms)
    echo $((t1 - t0))
  done | median
}

mib() { echo "$(($1 / 1024)).$(( ($1 % 1024) * 10 / 1024 ))"; }

rss_per_container() { # runtime pattern [extra ctr run flags]
  for k in $(seq "$N"); do $CTR run -d --runtime "$1" ${3:-} docker.io/library/busybox:latest "i$k" sleep 1000 >/dev/null; done
  sleep 2
  rss=0; pss=0
  for p in $(pgrep -f -- "$2"); do
    r=$(awk '/^VmRSS/ {print $2}' /proc/$p/status 2>/dev/null || echo 0); rss=$((rss + r))
    q=$(awk '/^Pss:/ {print $2}' /proc/$p/smaps_rollup 2>/dev/null || echo 0); pss=$((pss + q))
  done
  echo "rss $(mib $((rss / N))) pss $(mib $((pss / N))) MiB/container ($(pgrep -f -- "$2" | wc -l) shims)"
  for k in $(seq "$N"); do $CTR tasks kill -s KILL "i$k" >/dev/null 2>&1 || true; done
  sleep 1
  for k in $(seq "$N"); do $CTR tasks rm -f "i$k" >/dev/null 2>&1 || true; $CTR containers rm "i$k" >/dev/null 2>&1 || true; done
}

GROUP="--annotation io.containerd.runc.v2.group=bench"
echo "N=$N (medians; RSS/PSS of all shim processes divided by N idle containers)"
printf '%-20s %-9s %-10s %-48s %s\n' shim start_ms run_rm_ms "one shim per container" "one shim for all (group annotation)"
printf '%-20s %-9s %-10s %-48s %s\n' "debian (Go)" "$(start_latency $DEBIAN)" "$(run_latency io.containerd.runc.v2)" \
  "$(rss_per_container io.containerd.runc.v2 "containerd-shim-runc-v2 -namespace $NS")" \
  "$(rss_per_container io.containerd.runc.v2 "containerd-shim-runc-v2 -namespace $NS" "$GROUP")"
printf '%-20s %-9s %-10s %-48s %s\n' "jcontainerd (Java)" "$(start_latency $OURS)" "$(run_latency io.containerd.jcd.v2)" \
  "$(rss_per_container io.containerd.jcd.v2 "io.jcontainerd.shim.Main -namespace $NS")" \
  "$(rss_per_container io.containerd.jcd.v2 "io.jcontainerd.shim.Main -namespace $NS" "$GROUP")"
