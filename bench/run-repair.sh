#!/usr/bin/env bash
# run-repair.sh — anti-entropy and repair (issue 13's figures) on a 3-node local
# cluster (N=3, so every node holds every key; --no-hinted-handoff, so a node that
# misses writes stays behind until a repair; --aae-interval-s 0: no automatic
# comparisons, only the ones this script asks for).
#
#   0. load KEYS keys of VALUE bytes at W=ALL (kvbench, each key once).
#   1. identical: `kvctl --host n1 repair --wait` twice (the first after the load
#      recomputes the leaves the writes dirtied; the second finds them clean): the
#      job's time (kvctl's "done in"), bytes n1 sent and received, tree bytes, data
#      blocks read on all nodes.
#   2. divergence: kill n3, write DIV1 (0.1 %) new keys at W=2 through n1, restart
#      n3, `kvctl --host n3 repair --wait`: bytes exchanged against the bytes of the
#      keys n3 missed (key + value), time, keys repaired. Then the same with DIV2 (1 %).
#   3. client p99: the baseline of an open-loop background load (n1 and n2, BG_RATE
#      ops/s, 50/50 over the loaded keys) for BASE_S s; then kill n3, wipe its data
#      directory, restart it empty, and run `kvctl --host n3 repair --wait` (at the
#      nodes' --aae-rate) while the same load runs: restore rate (user bytes / time),
#      the load's p99 during the repair against the baseline, and that SAMPLE random
#      loaded keys are on n3 (replica-local reads). RESTORE=rebuild restores it with
#      `kvctl --host n3 rebuild --wait` instead (issue 14's range streaming; the
#      row's bytes are then n3's stream_bytes).
#
# Files in $RESULTS: load/div*/baseline/during .json and .txt (kvbench), stats-*.txt
# (`kvctl stats` before and after each repair), repair-*.txt (kvctl's progress and
# summary), summary.md, commands.txt, node logs (nodes3/n<i>/kvnode.log). The data
# directories are deleted at the end unless KEEP_DATA=1.
#
# Env (defaults): KEYS=1000000 VALUE=100 CONNS=32 BG_RATE=2000 BG_CONNS=8 BASE_S=10
#   SAMPLE=200 RESTORE=repair KEEP_DATA=0 RESULTS=bench/results/repair-<time>
#   KVBENCH=build/kvbench KVNODE=build/kvnode KVCTL=build/kvctl
#   KVNODE_EXTRA="--n 3 --sync interval --no-hinted-handoff --aae-interval-s 0"
# Takes about 3 minutes at the defaults. Every process it starts is stopped by pid on
# exit (also on error or Ctrl-C).
set -euo pipefail
cd "$(dirname "$0")/.."

KEYS=${KEYS:-1000000}
VALUE=${VALUE:-100}
CONNS=${CONNS:-32}
BG_RATE=${BG_RATE:-2000}
BG_CONNS=${BG_CONNS:-8}
BASE_S=${BASE_S:-10}
SAMPLE=${SAMPLE:-200}
RESTORE=${RESTORE:-repair}
KEEP_DATA=${KEEP_DATA:-0}
KVBENCH=${KVBENCH:-build/kvbench}
KVNODE=${KVNODE:-build/kvnode}
KVCTL=${KVCTL:-build/kvctl}
KVNODE_EXTRA=${KVNODE_EXTRA:---n 3 --sync interval --no-hinted-handoff --aae-interval-s 0}
RESULTS=${RESULTS:-bench/results/repair-$(date +%Y%m%d-%H%M%S)}
DIV1=$((KEYS / 1000))
DIV2=$((KEYS / 100))
for b in "$KVBENCH" "$KVNODE" "$KVCTL"; do [ -x "$b" ] || { echo "no $b: run 'make -j2 $b' first" >&2; exit 1; }; done
[ "$DIV1" -ge 1 ] || { echo "KEYS must be at least 1000" >&2; exit 1; }
mkdir -p "$RESULTS"
RESULTS=$(cd "$RESULTS" && pwd)
# shellcheck source=bench/lib.sh
. bench/lib.sh
bench_trap
: >"$RESULTS/commands.txt"

stats_of() { "$KVCTL" --host "${NODE_ADDRS[$1]}" --timeout 5000 stats; }
# write_keys NAME PREFIX COUNT W TARGETS...: each key PREFIX<index> written once.
write_keys() {
  local name=$1 prefix=$2 count=$3 w=$4
  shift 4
  run_kvbench "$name" "$@" --connections "$CONNS" --key-prefix "$prefix" --keys "$count" --requests "$count" \
    --distribution latest --no-preload --warmup 0 --value-size "$VALUE" --read-ratio 0 --w "$w" --no-staleness
}
# snapshot TAG: every node's stats into stats-TAG-<id>.txt
snapshot() {
  local i
  for i in 0 1 2; do stats_of "$i" >"$RESULTS/stats-$1-${NODE_IDS[$i]}.txt"; done
}
# delta TAG0 TAG1 NODE_INDEX NAME: a counter's growth between two snapshots
delta() {
  local a b
  a=$(stat_value "$(<"$RESULTS/stats-$1-${NODE_IDS[$3]}.txt")" "$4")
  b=$(stat_value "$(<"$RESULTS/stats-$2-${NODE_IDS[$3]}.txt")" "$4")
  echo $(( ${b:-0} - ${a:-0} ))
}
sum3() { echo $(( $(delta "$1" "$2" 0 "$3") + $(delta "$1" "$2" 1 "$3") + $(delta "$1" "$2" 2 "$3") )); }
# job KIND NAME INDEX: `kvctl repair --wait` or `kvctl rebuild --wait` (KIND) through
# node INDEX, timed (ms in REPAIR_MS), with stats snapshots NAME-before/-after
job() {
  local kind=$1 name=$2 t0 job_s
  snapshot "$name-before"
  echo "== $kind $name (through ${NODE_IDS[$3]})" >&2
  t0=$(now_us)
  "$KVCTL" --host "${NODE_ADDRS[$3]}" --timeout 10000 "$kind" --wait >"$RESULTS/$kind-$name.txt" 2>&1 ||
    { echo "kvctl $kind $name failed:" >&2; tail -20 "$RESULTS/$kind-$name.txt" >&2; exit 1; }
  REPAIR_MS=$(( ($(now_us) - t0) / 1000 ))  # to kvctl's 1 s poll; a repair's own time, when printed:
  job_s=$(grep -o 'done in [0-9.]* s' "$RESULTS/$kind-$name.txt" | awk '{ print $3 }' | tail -1 || true)  # a rebuild prints none
  [ -n "$job_s" ] && REPAIR_MS=$(awk -v s="$job_s" 'BEGIN { printf "%d", s * 1000 }')
  snapshot "$name-after"
}
repair() { job repair "$@"; }
# rebuild_row NAME INDEX USER_BYTES: the summary line of a rebuild (bytes: streamed in)
rebuild_row() {
  local n=$1 i=$2 bytes keys blocks
  bytes=$(delta "$n-before" "$n-after" "$i" stream_bytes)
  keys=$(delta "$n-before" "$n-after" "$i" stream_keys)
  blocks=$(sum3 "$n-before" "$n-after" engine_data_blocks_read)
  printf '| %s (kvctl rebuild) | %s | %d | - | %d (streamed) | - | - | %d | %s |\n' "$n" "$3" "$REPAIR_MS" "$bytes" \
    "$keys" "$blocks" >>"$RESULTS/summary.md"
}
# row NAME INDEX USER_BYTES: one summary line for repair NAME run through node INDEX
row() {
  local n=$1 i=$2 sent recv tree sync blocks keys
  sent=$(delta "$n-before" "$n-after" "$i" aae_bytes_sent)
  recv=$(delta "$n-before" "$n-after" "$i" aae_bytes_received)
  tree=$(delta "$n-before" "$n-after" "$i" aae_tree_bytes)
  sync=$(delta "$n-before" "$n-after" "$i" aae_sync_bytes)
  keys=$(delta "$n-before" "$n-after" "$i" aae_keys_differing)
  blocks=$(sum3 "$n-before" "$n-after" engine_data_blocks_read)
  printf '| %s | %s | %d | %d | %d | %d | %d | %d | %s |\n' "$n" "$3" "$REPAIR_MS" "$sent" "$recv" "$tree" "$sync" \
    "$keys" "$blocks" >>"$RESULTS/summary.md"
}

echo "starting 3 nodes" >&2
start_nodes 3 "$KVNODE_EXTRA"
T1=(--target "kv://${NODE_ADDRS[0]}")
T12=("${T1[@]}" --target "kv://${NODE_ADDRS[1]}")
T3=("${T12[@]}" --target "kv://${NODE_ADDRS[2]}")
{
  echo "# repair: $KEYS keys of $VALUE B, 3 nodes, N=3"
  echo
  echo "| repair | user bytes missing | ms | bytes sent | bytes received | tree bytes | sync bytes | keys differing | data blocks read (3 nodes) |"
  echo "|---|---|---|---|---|---|---|---|---|"
} >"$RESULTS/summary.md"

# 0. The data.
write_keys load k "$KEYS" 3 "${T3[@]}"

# 1. Identical replicas.
repair identical-first 0
row identical-first 0 0
repair identical 0
row identical 0 0

# 2. Divergence: n3 misses new keys.
divergence() {  # divergence NAME COUNT PREFIX
  echo "== kill n3, $2 writes it misses" >&2
  kill_node 2
  write_keys "$1" "$3" "$2" 2 "${T12[@]}"
  restart_node 2
  wait_cluster_up 30
  repair "$1" 2
  row "$1" 2 $(( $2 * (16 + VALUE) ))  # kvbench's keys are 16 bytes
}
divergence div-0.1pct "$DIV1" d1-
divergence div-1pct "$DIV2" d2-

# 3. A wiped node restored under client load.
BG=("${T12[@]}" --connections "$BG_CONNS" --pipeline 4 --rate "$BG_RATE" --no-preload --key-prefix k --keys "$KEYS"
    --value-size "$VALUE" --read-ratio 0.5 --warmup 0 --no-staleness)
run_kvbench baseline "${BG[@]}" --duration "$BASE_S"
echo "== wipe n3" >&2
kill_node 2
rm -rf "${NODE_DIRS[2]}/data"
restart_node 2
wait_cluster_up 30
kvbench_cmd during "${BG[@]}" --duration 3600
"${CMD[@]}" >"$RESULTS/during.txt" 2>&1 &
bg_pid=$!
PIDS+=("$bg_pid")
sleep 1
job "$RESTORE" wiped 2
kill -INT "$bg_pid" 2>/dev/null || true
wait "$bg_pid" 2>/dev/null || true
forget_pid "$bg_pid"
if [ "$RESTORE" = rebuild ]; then
  rebuild_row wiped 2 $(( KEYS * (16 + VALUE) ))
else
  row wiped 2 $(( KEYS * (16 + VALUE) ))
fi
found=0
for idx in $(shuf -i "0-$((KEYS - 1))" -n "$SAMPLE"); do
  printf -v key "k%015d" "$idx"
  "$KVCTL" --host "${NODE_ADDRS[2]}" --timeout 5000 get --local "$key" >/dev/null 2>&1 && found=$((found + 1))
done
base_p99=$(jnum "$RESULTS/baseline.json" p99)
during_p99=$(jnum "$RESULTS/during.json" p99)
restore_mbs=$(awk -v b=$(( KEYS * (16 + VALUE) )) -v ms="$REPAIR_MS" 'BEGIN { printf "%.1f", b / 1048576 / (ms / 1000) }')
{
  echo
  echo "Wiped n3 restored: ${REPAIR_MS} ms, ${restore_mbs} MiB/s of user data (keys + values);" \
    "$found of $SAMPLE sampled keys found on n3 (replica-local reads)."
  echo "Background load (n1+n2, $BG_RATE ops/s open loop): p99 ${base_p99} us steady, ${during_p99} us during the" \
    "restore: $(ratio "$during_p99" "$base_p99")x."
} >>"$RESULTS/summary.md"
cat "$RESULTS/summary.md"
stop_nodes
[ "$KEEP_DATA" = 1 ] || rm -rf "$RESULTS/nodes3"/n*/data
