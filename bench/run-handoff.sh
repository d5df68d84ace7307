#!/usr/bin/env bash
# run-handoff.sh — hinted handoff: how fast the hints for a node that was down are
# replayed once it is back, what the replay costs client latency, and whether the node
# then holds what it missed. A 3-node local cluster (N=3, --sync interval, default
# --handoff-rate 64m).
#
#   1. steady: kvbench closed loop on all three nodes (CONNS connections, VALUE-byte
#      values, 50/50, KEYS preloaded keys, STEADY_S s): ops/s and p99. Then the
#      baseline: the background load of step 5 (n1 and n2, BG_CONNS connections, open
#      loop at BG_FRACTION (half) of the steady ops/s, 50/50, no warm-up, BASE_S s)
#      while every node is up: its p99. Its connections have BG_PIPELINE request slots
#      each, so that the rate is limited by the nodes, not by 20 slots (at depth 1, 20
#      connections reach half the steady rate only if latency is 0.8x the steady one).
#   2. SIGKILL n3; wait until n1 and n2 show it down.
#   3. write DATA_MB MiB of 4 KiB values at W=2 through n1 and n2: DATA_MB x 256 keys
#      `h` + zero-padded index, each written once (--distribution latest walks the keys
#      in order; --requests = --keys, no preload, no warm-up). n1 and n2 keep a hint
#      for n3 for each write.
#   4. record hints_pending and hints_pending_bytes on n1 and n2.
#   5. start the background load again (same flags as the baseline, run until stopped),
#      restart n3 at once (same port and data dir), and poll n1's and n2's `kvctl stats`
#      and `kvctl status --json` every 200 ms until hints_pending is 0 on both; then stop
#      the background load (SIGINT: kvbench writes its results). Its writes until n3 is
#      seen up add hints of their own: they are part of the replay.
#   6. check that n3 holds what it missed: `kvctl --host n3 get --local` of SAMPLE
#      random keys of step 3 (must all be found).
#
# Reports: replay time (restart to zero hints on both), when n1 and n2 saw n3 up,
# hints and bytes replayed (handoff_replayed / handoff_replayed_bytes, summed over n1
# and n2, counted from just before the restart), replay rate in MB/s (MiB: bytes
# replayed / replay time), the background load's p99 during the replay against the
# baseline p99, and keys found on n3. The background run's measured window starts a few
# ms before the restart (the stats calls in between) and ends at zero hints; the replay
# time includes n3's start and its detection as up (reported too), and is resolved to
# the 200 ms poll.
# Files in $RESULTS: steady/baseline/outage/replay-load .json and .txt (kvbench),
# replay.csv (every 200 ms poll: ms since the restart, node, hints_pending,
# hints_pending_bytes, handoff_replayed, handoff_replayed_bytes, handoff_active, n3's
# state as the node sees it), stats-*.txt (full `kvctl stats` before and after),
# sample.csv (key, found), summary.md, commands.txt, node logs (nodes3/n<i>/kvnode.log).
# The nodes' data directories (~700 MB at DATA_MB=200) are deleted at the end unless
# KEEP_DATA=1.
#
# Env (defaults): DATA_MB=200 STEADY_S=20 BASE_S=10 CONNS=50 BG_CONNS=20 BG_FRACTION=0.5
#   BG_PIPELINE=4 VALUE=100 KEYS=20000 SAMPLE=200 REPLAY_TIMEOUT_S=300 KEEP_DATA=0
#   RESULTS=bench/results/handoff-<time>
#   KVBENCH=build/kvbench KVNODE=build/kvnode KVCTL=build/kvctl
#   KVNODE_EXTRA="--n 3 --sync interval"
# Takes about 1 minute at the defaults, most of it the steady phase (DATA_MB=200 with
# STEADY_S=5 BASE_S=5: ~25 s; DATA_MB=20: ~35 s). 200 MiB leaves each of n1 and n2
# ~107 MB of hints for n3, under kvnode's --hint-max-per-owner 128m: above DATA_MB ~250
# hints are dropped (reported) unless KVNODE_EXTRA raises the bound.
# Every process it starts is stopped by pid on exit (also on error or Ctrl-C).
set -euo pipefail
cd "$(dirname "$0")/.."

DATA_MB=${DATA_MB:-200}
STEADY_S=${STEADY_S:-20}
BASE_S=${BASE_S:-10}
CONNS=${CONNS:-50}
BG_CONNS=${BG_CONNS:-20}
VALUE=${VALUE:-100}
KEYS=${KEYS:-20000}
SAMPLE=${SAMPLE:-200}
KEEP_DATA=${KEEP_DATA:-0}
BG_FRACTION=${BG_FRACTION:-0.5}
BG_PIPELINE=${BG_PIPELINE:-4}
REPLAY_TIMEOUT_S=${REPLAY_TIMEOUT_S:-300}
KVBENCH=${KVBENCH:-build/kvbench}
KVNODE=${KVNODE:-build/kvnode}
KVCTL=${KVCTL:-build/kvctl}
KVNODE_EXTRA=${KVNODE_EXTRA:---n 3 --sync interval}
RESULTS=${RESULTS:-bench/results/handoff-$(date +%Y%m%d-%H%M%S)}
OUT_PREFIX=h          # keys written during the outage: h000000000000042
OUT_VALUE=4096
OUT_KEYS=$((DATA_MB * 1048576 / OUT_VALUE))
for b in "$KVBENCH" "$KVNODE" "$KVCTL"; do [ -x "$b" ] || { echo "no $b: run 'make -j2 $b' first" >&2; exit 1; }; done
[ "$OUT_KEYS" -ge 1 ] || { echo "DATA_MB must be at least 1" >&2; exit 1; }
mkdir -p "$RESULTS"
RESULTS=$(cd "$RESULTS" && pwd)
# shellcheck source=bench/lib.sh
. bench/lib.sh
bench_trap
: >"$RESULTS/commands.txt"

stats_of() { "$KVCTL" --host "${NODE_ADDRS[$1]}" --timeout 2000 stats; }
state_of_n3() {  # state_of_n3 INDEX: n3's state as node INDEX sees it ("unreachable" if it does not answer)
  local json
  json=$("$KVCTL" --host "${NODE_ADDRS[$1]}" --timeout 2000 status --json 2>/dev/null) || json=""
  parse_member_states "$json"
  echo "${MEMBER_STATE[n3]:-unreachable}"
}
ms_since() { echo $((($(now_us) - $1) / 1000)); }

echo "starting 3 nodes" >&2
start_nodes 3 "$KVNODE_EXTRA"
T1=(--target "kv://${NODE_ADDRS[0]}" --target "kv://${NODE_ADDRS[1]}")
T3=("${T1[@]}" --target "kv://${NODE_ADDRS[2]}")

# 1. Steady state, and the baseline of the background load.
run_kvbench steady "${T3[@]}" --connections "$CONNS" --keys "$KEYS" --value-size "$VALUE" --read-ratio 0.5 \
  --duration "$STEADY_S"
steady_ops=$(jnum "$RESULTS/steady.json" ops_per_sec)
RATE=$(awk -v o="$steady_ops" -v f="$BG_FRACTION" 'BEGIN { printf "%d", o * f }')
[ "$RATE" -gt 0 ] || { echo "steady phase measured no throughput" >&2; exit 1; }
BG=("${T1[@]}" --connections "$BG_CONNS" --pipeline "$BG_PIPELINE" --rate "$RATE" --no-preload --keys "$KEYS" --value-size "$VALUE"
    --read-ratio 0.5 --warmup 0 --timeline-ms 100)
run_kvbench baseline "${BG[@]}" --duration "$BASE_S"

# 2. n3 goes away.
echo "== SIGKILL n3" >&2
kill_node 2
t_kill=$(now_us)
until [ "$(state_of_n3 0)" = down ] && [ "$(state_of_n3 1)" = down ]; do
  [ "$(ms_since "$t_kill")" -lt 30000 ] || { echo "n1 and n2 do not show n3 down after 30 s" >&2; exit 1; }
  sleep 0.05
done
down_ms=$(ms_since "$t_kill")

# 3. The writes n3 misses, each key once.
run_kvbench outage "${T1[@]}" --connections "$CONNS" --key-prefix "$OUT_PREFIX" --keys "$OUT_KEYS" \
  --requests "$OUT_KEYS" --distribution latest --no-preload --warmup 0 --value-size "$OUT_VALUE" --read-ratio 0 \
  --w 2 --no-staleness
out_ops=$(jnum "$RESULTS/outage.json" ops)
out_rate=$(jnum "$RESULTS/outage.json" ops_per_sec)
out_errors=$(jnum "$RESULTS/outage.json" errors)

# 4. The debt.
declare -A S
for i in 0 1; do
  stats_of "$i" >"$RESULTS/stats-before-${NODE_IDS[$i]}.txt"
  t=$(<"$RESULTS/stats-before-${NODE_IDS[$i]}.txt")
  for k in hints_pending hints_pending_bytes hints_dropped handoff_replayed handoff_replayed_bytes; do
    S[$i.$k]=$(stat_value "$t" "$k")
    [ -n "${S[$i.$k]}" ] || { echo "no '$k' line in ${NODE_IDS[$i]}'s kvctl stats" >&2; exit 1; }
  done
done
hints_before=$((${S[0.hints_pending]} + ${S[1.hints_pending]}))
hint_bytes_before=$((${S[0.hints_pending_bytes]} + ${S[1.hints_pending_bytes]}))
hints_dropped=$((${S[0.hints_dropped]} + ${S[1.hints_dropped]}))
[ "$hints_before" -gt 0 ] || { echo "n1 and n2 hold no hints for n3 (hinted handoff off?)" >&2; exit 1; }

# 5. Background load, restart, replay.
kvbench_cmd replay-load "${BG[@]}" --duration 3600
echo "== replay-load (until the hints are replayed) and restart of n3" >&2
"${CMD[@]}" >"$RESULTS/replay-load.txt" 2>"$RESULTS/replay-load.err" &
bg_pid=$!
PIDS+=("$bg_pid")
t_bg=$(now_us)
# Counters just before the restart: the background writes add hints until n3 is seen up.
for i in 0 1; do
  t=$(stats_of "$i")
  S[$i.replayed0]=$(stat_value "$t" handoff_replayed)
  S[$i.replayed_bytes0]=$(stat_value "$t" handoff_replayed_bytes)
  S[$i.pending0]=$(stat_value "$t" hints_pending)
  S[$i.pending_bytes0]=$(stat_value "$t" hints_pending_bytes)
done
kill -0 "$bg_pid" 2>/dev/null || { echo "the background kvbench exited:" >&2; cat "$RESULTS/replay-load.err" >&2; exit 1; }
bg_lead_ms=$(ms_since "$t_bg")
t_restart=$(now_us)
restart_node 2
echo "t_ms,node,hints_pending,hints_pending_bytes,handoff_replayed,handoff_replayed_bytes,handoff_active,n3_state" \
  >"$RESULTS/replay.csv"
declare -A UP_MS=()
while :; do
  done_nodes=0
  for i in 0 1; do
    t=$(stats_of "$i") || t=""
    ms=$(ms_since "$t_restart")
    st=$(state_of_n3 "$i")
    [ "$st" = up ] && [ -z "${UP_MS[$i]:-}" ] && UP_MS[$i]=$ms
    hp=$(stat_value "$t" hints_pending)
    echo "$ms,${NODE_IDS[$i]},$hp,$(stat_value "$t" hints_pending_bytes),$(stat_value "$t" handoff_replayed),$(stat_value "$t" handoff_replayed_bytes),$(stat_value "$t" handoff_active),$st" \
      >>"$RESULTS/replay.csv"
    [ "$hp" = 0 ] && done_nodes=$((done_nodes + 1))
  done
  [ "$done_nodes" = 2 ] && break
  [ "$(ms_since "$t_restart")" -lt $((REPLAY_TIMEOUT_S * 1000)) ] ||
    { echo "hints still pending $REPLAY_TIMEOUT_S s after the restart (replay.csv)" >&2; exit 1; }
  sleep 0.2
done
replay_ms=$(ms_since "$t_restart")
kill -INT "$bg_pid" 2>/dev/null || true
bg_rc=0
wait "$bg_pid" || bg_rc=$?
forget_pid "$bg_pid"
[ "$bg_rc" = 0 ] || [ "$bg_rc" = 130 ] || { echo "the background kvbench failed (status $bg_rc):" >&2; tail -20 "$RESULTS/replay-load.err" >&2; exit 1; }
replayed=0
replayed_bytes=0
for i in 0 1; do
  stats_of "$i" >"$RESULTS/stats-after-${NODE_IDS[$i]}.txt"
  t=$(<"$RESULTS/stats-after-${NODE_IDS[$i]}.txt")
  replayed=$((replayed + $(stat_value "$t" handoff_replayed) - ${S[$i.replayed0]}))
  replayed_bytes=$((replayed_bytes + $(stat_value "$t" handoff_replayed_bytes) - ${S[$i.replayed_bytes0]}))
done

# 6. What n3 holds now, read from its own store only.
echo "key,found" >"$RESULTS/sample.csv"
found=0 missing=0 failed=0
digits=$((16 - ${#OUT_PREFIX}))
n=$SAMPLE
[ "$n" -le "$OUT_KEYS" ] || n=$OUT_KEYS
for idx in $(shuf -i "0-$((OUT_KEYS - 1))" -n "$n"); do
  printf -v key "%s%0${digits}d" "$OUT_PREFIX" "$idx"
  rc=0
  "$KVCTL" --host "${NODE_ADDRS[2]}" --timeout 2000 get --local "$key" >/dev/null 2>&1 || rc=$?
  case $rc in
    0) found=$((found + 1)); echo "$key,yes" >>"$RESULTS/sample.csv" ;;
    1) missing=$((missing + 1)); echo "$key,no" >>"$RESULTS/sample.csv" ;;
    *) failed=$((failed + 1)); echo "$key,error" >>"$RESULTS/sample.csv" ;;
  esac
done
stop_nodes
[ "$KEEP_DATA" = 1 ] || for d in "${NODE_DIRS[@]}"; do rm -rf "$d/data"; done

base_p99=$(jnum "$RESULTS/baseline.json" p99)
bg_p99=$(jnum "$RESULTS/replay-load.json" p99)
row() {  # row NAME JSON
  echo "| $1 | $(jnum "$2" ops_per_sec) | $(jnum "$2" p50) | $(jnum "$2" p99) | $(jnum "$2" p999) | $(jnum "$2" errors) | $(jnum "$2" unsent) | $(jnum "$2" elapsed_s) |"
}
{
  echo "# hinted handoff: 3 nodes, ${DATA_MB} MiB missed ($(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores)"
  echo
  echo "kvnode flags: $KVNODE_EXTRA (default --handoff-rate 64m unless given). Latency in µs."
  echo
  echo "| load | ops/s | p50 | p99 | p99.9 | errors | unsent | seconds |"
  echo "|---|---|---|---|---|---|---|---|"
  row "steady: closed loop, 3 nodes, $CONNS conns, ${VALUE} B, 50/50" "$RESULTS/steady.json"
  row "baseline: open loop $RATE/s, n1+n2, $BG_CONNS conns x $BG_PIPELINE, all up" "$RESULTS/baseline.json"
  row "outage writes: ${OUT_KEYS} x ${OUT_VALUE} B at W=2, n1+n2, n3 down" "$RESULTS/outage.json"
  row "during the replay: same open loop $RATE/s" "$RESULTS/replay-load.json"
  echo
  echo "| replay | value |"
  echo "|---|---|"
  echo "| n3 shown down by n1 and n2 after the kill | ${down_ms} ms |"
  echo "| outage writes acknowledged / errors | ${out_ops:--} / ${out_errors:--} (${out_rate:--} ops/s) |"
  echo "| hints pending on n1+n2 after the writes | $hints_before ($hint_bytes_before bytes; n1 ${S[0.hints_pending]}, n2 ${S[1.hints_pending]}) |"
  echo "| hints dropped by n1+n2 (over --hint-max-per-owner 128m / total bound) | $hints_dropped |"
  echo "| hints pending at the restart (the background load started ${bg_lead_ms} ms before it) | $((${S[0.pending0]} + ${S[1.pending0]})) ($((${S[0.pending_bytes0]} + ${S[1.pending_bytes0]})) bytes) |"
  echo "| n3 seen up after the restart by n1 / n2 (first 200 ms poll showing it) | ${UP_MS[0]:--} / ${UP_MS[1]:--} ms |"
  echo "| **replay time** (restart to 0 hints on n1 and n2) | **$(awk -v m="$replay_ms" 'BEGIN { printf "%.1f", m / 1000 }') s** |"
  echo "| hints replayed (n1+n2) | $replayed |"
  echo "| bytes replayed (n1+n2) | $replayed_bytes |"
  echo "| **replay rate** | **$(awk -v b="$replayed_bytes" -v m="$replay_ms" 'BEGIN { printf "%.1f", (m > 0 ? b / 1048576 / (m / 1000) : 0) }') MB/s** (MiB/s) |"
  echo "| **p99 during the replay vs baseline** | **${bg_p99:--} vs ${base_p99:--} µs ($(ratio "${bg_p99:-}" "${base_p99:-}")x)** |"
  echo "| **keys of the outage found on n3** (get --local, sample) | **$found of $n** (missing $missing, errors $failed) |"
  echo
  echo "Raw: *.json (kvbench), replay.csv (200 ms polls), stats-*.txt, sample.csv; commands: commands.txt."
} | tee "$RESULTS/summary.md"
echo "results in $RESULTS" >&2
[ "$found" = "$n" ] || { echo "FAILED: $((n - found)) of $n sampled keys are not on n3" >&2; exit 1; }
