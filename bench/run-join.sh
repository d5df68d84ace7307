#!/usr/bin/env bash
# run-join.sh — a node joining a loaded cluster (issue 14's figures) on loopback.
#
#   0. three nodes (N=3, so each holds every key); KEYS keys of VALUE bytes loaded
#      at W=ALL (kvbench, each key once).
#   1. steady: a closed-loop kvbench (BG_CONNS connections, 50/50 over the loaded
#      keys, through n1..n3) for STEADY_S s: ops/s and p99.
#   2. join: the same load for DURING_S s; one second in, n4 starts with --join. The
#      time from its start to `normal`, the user bytes it received (the streams'
#      key + stored-set bytes) and their rate; the load's ops/s (mean) and p99
#      (median and max of its per-second p99s) inside the join's window, against
#      the steady figures.
#
# Files in $RESULTS: load/steady/during .json and .txt (kvbench), streams.txt
# (`kvctl streams` at the end), summary.md, commands.txt, node logs. Data
# directories are deleted at the end unless KEEP_DATA=1.
#
# Env (defaults): KEYS=1000000 VALUE=1000 CONNS=32 BG_CONNS=16 STEADY_S=10 DURING_S=40
#   STREAM_RATE=1g KEEP_DATA=0 RESULTS=bench/results/join-<time>
#   KVBENCH=build/kvbench KVNODE=build/kvnode KVCTL=build/kvctl
#   KVNODE_EXTRA="--n 3 --sync interval"
# About 3 minutes and 4 GB of disk at the defaults (1 GB of user data). Every
# process it starts is stopped by pid on exit (also on error or Ctrl-C).
set -euo pipefail
cd "$(dirname "$0")/.."

KEYS=${KEYS:-1000000}
VALUE=${VALUE:-1000}
CONNS=${CONNS:-32}
BG_CONNS=${BG_CONNS:-16}
STEADY_S=${STEADY_S:-10}
DURING_S=${DURING_S:-40}
STREAM_RATE=${STREAM_RATE:-1g}
KEEP_DATA=${KEEP_DATA:-0}
KVBENCH=${KVBENCH:-build/kvbench}
KVNODE=${KVNODE:-build/kvnode}
KVCTL=${KVCTL:-build/kvctl}
KVNODE_EXTRA=${KVNODE_EXTRA:---n 3 --sync interval}
RESULTS=${RESULTS:-bench/results/join-$(date +%Y%m%d-%H%M%S)}
for b in "$KVBENCH" "$KVNODE" "$KVCTL"; do [ -x "$b" ] || { echo "no $b: run 'make -j2 $b' first" >&2; exit 1; }; done
mkdir -p "$RESULTS"
RESULTS=$(cd "$RESULTS" && pwd)
# shellcheck source=bench/lib.sh
. bench/lib.sh
bench_trap
: >"$RESULTS/commands.txt"

# timeline_window FILE FROM_S TO_S: "mean_ops median_p99 max_p99" of the kvbench
# timeline points whose second ends inside [FROM_S, TO_S].
timeline_window() {
  awk -v a="$2" -v b="$3" '
    /"t_s":/ { t = $2 + 0 }
    /"warmup":/ { w = ($2 ~ /true/) }
    /"ops_per_sec":/ { o = $2 + 0 }
    /"p99_us":/ { if (!w && t >= a && t <= b) print o, $2 + 0 }' "$1" | sort -k2 -n |
    awk '{ n++; ops += $1; p[n] = $2 } END { if (n == 0) { print "- - -"; exit }
         printf "%.0f %.0f %.0f\n", ops / n, p[int((n + 1) / 2)], p[n] }'
}

start_nodes 3 "$KVNODE_EXTRA --stream-rate $STREAM_RATE"
TARGETS=(--target "kv://${NODE_ADDRS[0]}" --target "kv://${NODE_ADDRS[1]}" --target "kv://${NODE_ADDRS[2]}")
run_kvbench load "${TARGETS[@]}" --connections "$CONNS" --key-prefix k --keys "$KEYS" --requests "$KEYS" \
  --distribution latest --no-preload --warmup 0 --value-size "$VALUE" --read-ratio 0 --w ALL --no-staleness
BG=("${TARGETS[@]}" --connections "$BG_CONNS" --key-prefix k --keys "$KEYS" --no-preload --warmup 1
    --value-size "$VALUE" --read-ratio 0.5 --no-staleness --timeline-ms 1000)
run_kvbench steady "${BG[@]}" --duration "$STEADY_S"
STEADY_OPS=$(jnum "$RESULTS/steady.json" ops_per_sec)
STEADY_P99=$(grep -m1 -o '"p99": [0-9.]*' "$RESULTS/steady.json" | awk '{print $2}')

# n4, seeded with every node, joining.
NODE_IDS+=(n4)
p=$(free_port)
NODE_PORTS+=("$p")
NODE_ADDRS+=("127.0.0.1:$p")
NODE_DIRS+=("$RESULTS/nodes3/n4")
rm -rf "${NODE_DIRS[3]}"
mkdir -p "${NODE_DIRS[3]}"
kvbench_cmd during "${BG[@]}" --duration "$DURING_S"
"${CMD[@]}" --quiet >"$RESULTS/during.txt" 2>&1 &
BENCH_PID=$!
PIDS+=("$BENCH_PID")
sleep 2  # the warm-up second and one measured second before the join
BENCH_T0=$(( $(now_us) - 1000000 ))
NODE_EXTRA="$KVNODE_EXTRA --stream-rate $STREAM_RATE --join"
JOIN_T0=$(now_us)
launch_node 3
wait_port "${NODE_PORTS[3]}" "${NODE_PIDS[3]}" "${NODE_DIRS[3]}/kvnode.log"
"$KVCTL" --host "${NODE_ADDRS[3]}" --timeout 5000 join --wait >"$RESULTS/join.txt"
JOIN_T1=$(now_us)
"$KVCTL" --host "${NODE_ADDRS[3]}" --timeout 5000 streams >"$RESULTS/streams.txt"
wait "$BENCH_PID"
forget_pid "$BENCH_PID"

JOIN_S=$(awk -v a="$JOIN_T0" -v b="$JOIN_T1" 'BEGIN { printf "%.1f", (b - a) / 1e6 }')
LINE=$(head -1 "$RESULTS/streams.txt")
BYTES=$(grep -o '^  .*' "$RESULTS/streams.txt" | awk '{ for (i = 1; i <= NF; i++) if ($i == "keys,") {
  v = $(i + 1); u = $(i + 2); sub(",", "", u); m = u == "B" ? 1 : u == "KiB" ? 1024 : u == "MiB" ? 1048576 : 1073741824;
  s += v * m } } END { printf "%.0f", s }')
STREAM_S=$(grep -o 'streaming [0-9]* ranges' "${NODE_DIRS[3]}/kvnode.log" >/dev/null &&
  awk '/join: streaming/ { split($1, a, ":"); t0 = a[1] * 3600 + a[2] * 60 + a[3] }
       /join done/ { split($1, a, ":"); t1 = a[1] * 3600 + a[2] * 60 + a[3] }
       END { printf "%.2f", t1 - t0 }' "${NODE_DIRS[3]}/kvnode.log")
FROM=$(awk -v a="$JOIN_T0" -v b="$BENCH_T0" 'BEGIN { printf "%.1f", (a - b) / 1e6 + 1 }')
TO=$(awk -v a="$JOIN_T1" -v b="$BENCH_T0" 'BEGIN { printf "%.1f", (a - b) / 1e6 }')
read -r DURING_OPS DURING_P99_MED DURING_P99_MAX < <(timeline_window "$RESULTS/during.json" "$FROM" "$TO")

{
  echo "# Join of a 4th node to 3 ($KEYS keys of $VALUE B, N=3, stream rate $STREAM_RATE)"
  echo
  echo "- time from start to normal: $JOIN_S s (streaming itself: $STREAM_S s; the rest is the ring delay)"
  echo "- received: $BYTES bytes of keys and stored sets ($(awk -v b="$BYTES" -v s="$STREAM_S" 'BEGIN { printf "%.1f", b / s / 1e6 }') MB/s while streaming)"
  echo "- $LINE"
  echo "- steady: $STEADY_OPS ops/s, p99 $STEADY_P99 us"
  echo "- during the join (per-second points in [$FROM, $TO] s): $DURING_OPS ops/s ($(ratio "$DURING_OPS" "$STEADY_OPS") of steady), p99 median $DURING_P99_MED us ($(ratio "$DURING_P99_MED" "$STEADY_P99")x), max $DURING_P99_MAX us ($(ratio "$DURING_P99_MAX" "$STEADY_P99")x)"
} | tee "$RESULTS/summary.md"
stop_nodes
[ "$KEEP_DATA" = 1 ] || rm -rf "$RESULTS"/nodes3/*/data
