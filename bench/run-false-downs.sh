#!/usr/bin/env bash
# run-false-downs.sh — the failure detector's stability soak: no node fails, so no
# member may ever be declared down. A 5-node local cluster at kvnode's default detector
# settings under a saturating kvbench load (closed loop, all 5 nodes as targets, 50
# connections, 100-byte values, 50/50 get/put over preloaded keys) for DURATION
# seconds, while a poller per node reads its `kvctl status --json` every POLL_MS ms
# (from the cluster's start to the load's end) and records every member the node
# shows other than up (itself, `self`, excepted).
#
# Prints: the load's ops/s and errors (kvbench's JSON), polls made and failed, false
# downs (distinct (observer, member) pairs ever seen down, and samples; must be 0),
# suspicions (the same for suspect), and the count of WARN lines mentioning gossip in
# the node logs. Files in $RESULTS: polls.csv (one row per poll: the poller's round, ms
# since the pollers started, node, ok or failed, call ms, members listed, up/suspect/down),
# not-up.csv (one row per member seen suspect or down, with the detail the node
# gave), kvbench.json/.txt, summary.md, commands.txt, node logs (nodes5/n<i>/kvnode.log).
# The nodes' data directories are deleted at the end unless KEEP_DATA=1 (ten minutes
# of load writes a few GB).
#
# Env (defaults): DURATION=600 (measured seconds of load; `make soak-fd` runs it)
#   NODES=5 CONNS=50 VALUE=100 KEYS=100000 POLL_MS=200 KEEP_DATA=0
#   RESULTS=bench/results/false-downs-<time> KVBENCH=build/kvbench KVNODE=build/kvnode
#   KVCTL=build/kvctl KVNODE_EXTRA="--sync interval"
# Takes DURATION + ~15 s (cluster start, preload, 1 s warm-up, drain, stop).
# Every process it starts is stopped by pid on exit (also on error or Ctrl-C).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-600}
NODES=${NODES:-5}
CONNS=${CONNS:-50}
VALUE=${VALUE:-100}
KEYS=${KEYS:-100000}
POLL_MS=${POLL_MS:-200}
KEEP_DATA=${KEEP_DATA:-0}
KVBENCH=${KVBENCH:-build/kvbench}
KVNODE=${KVNODE:-build/kvnode}
KVCTL=${KVCTL:-build/kvctl}
KVNODE_EXTRA=${KVNODE_EXTRA:---sync interval}
RESULTS=${RESULTS:-bench/results/false-downs-$(date +%Y%m%d-%H%M%S)}
for b in "$KVBENCH" "$KVNODE" "$KVCTL"; do [ -x "$b" ] || { echo "no $b: run 'make -j2 $b' first" >&2; exit 1; }; done
mkdir -p "$RESULTS"
RESULTS=$(cd "$RESULTS" && pwd)
# shellcheck source=bench/lib.sh
. bench/lib.sh
bench_trap

: >"$RESULTS/commands.txt"
echo "round,t_ms,observer,result,call_ms,members,up,suspect,down" >"$RESULTS/polls.csv"
echo "round,t_ms,observer,member,state,detail" >"$RESULTS/not-up.csv"
STOP_FILE="$RESULTS/.stop-poller"
rm -f "$STOP_FILE"

# poller INDEX T0_US: polls node INDEX every POLL_MS ms until $STOP_FILE exists, into
# $RESULTS/.polls.INDEX and .not-up.INDEX (merged at the end). One per node, so that a
# node slow to answer does not hold up the polls of the others. Runs in the background.
poller() {
  local i=$1 t0=$2 next round=0 json r s e now rem sl m up sus down n
  local polls="$RESULTS/.polls.$1" notup="$RESULTS/.not-up.$1"
  : >"$polls"
  : >"$notup"
  next=${EPOCHREALTIME/[.,]/}
  while [ ! -e "$STOP_FILE" ]; do
    round=$((round + 1))
    s=${EPOCHREALTIME/[.,]/}
    if json=$("$KVCTL" --host "${NODE_ADDRS[$i]}" --timeout 2000 status --json 2>/dev/null); then r=ok; else r=failed json=""; fi
    e=${EPOCHREALTIME/[.,]/}
    parse_member_states "$json"
    up=0 sus=0 down=0 n=0
    for m in "${!MEMBER_STATE[@]}"; do
      n=$((n + 1))
      case ${MEMBER_STATE[$m]} in
        up | self) [ "${MEMBER_STATE[$m]}" = up ] && up=$((up + 1)) ;;
        *)
          [ "${MEMBER_STATE[$m]}" = suspect ] && sus=$((sus + 1))
          [ "${MEMBER_STATE[$m]}" = down ] && down=$((down + 1))
          echo "$round,$(((s - t0) / 1000)),${NODE_IDS[$i]},$m,${MEMBER_STATE[$m]},\"${MEMBER_DETAIL[$m]}\"" >>"$notup"
          ;;
      esac
    done
    echo "$round,$(((s - t0) / 1000)),${NODE_IDS[$i]},$r,$(((e - s) / 1000)),$n,$up,$sus,$down" >>"$polls"
    next=$((next + POLL_MS * 1000))
    now=${EPOCHREALTIME/[.,]/}
    rem=$((next - now))
    if [ "$rem" -gt 0 ]; then
      printf -v sl '%d.%06d' $((rem / 1000000)) $((rem % 1000000))
      sleep "$sl"
    else
      next=$now  # a poll took longer than POLL_MS: poll again now, do not catch up
    fi
  done
}

echo "starting $NODES nodes" >&2
start_nodes "$NODES" "$KVNODE_EXTRA"
t0=$(now_us)
poller_pids=()
for i in "${!NODE_IDS[@]}"; do
  poller "$i" "$t0" &
  poller_pids+=($!)
  PIDS+=($!)
done

targets=()
for a in "${NODE_ADDRS[@]}"; do targets+=(--target "kv://$a"); done
cmd=("$KVBENCH" "${targets[@]}" --connections "$CONNS" --keys "$KEYS" --value-size "$VALUE" --read-ratio 0.5
     --duration "$DURATION" --json "$RESULTS/kvbench.json" --quiet)
echo "${cmd[*]}" >>"$RESULTS/commands.txt"
echo "load: ${DURATION} s of kvbench on $NODES nodes, polling every ${POLL_MS} ms" >&2
# kvbench runs in the background so that Ctrl-C stops it through the trap (by pid).
"${cmd[@]}" >"$RESULTS/kvbench.txt" 2>&1 &
bench_pid=$!
PIDS+=("$bench_pid")
bench_rc=0
wait "$bench_pid" || bench_rc=$?
forget_pid "$bench_pid"
touch "$STOP_FILE"
for p in "${poller_pids[@]}"; do wait "$p" || true; forget_pid "$p"; done
rm -f "$STOP_FILE"
for i in "${!NODE_IDS[@]}"; do
  cat "$RESULTS/.polls.$i" >>"$RESULTS/polls.csv"
  cat "$RESULTS/.not-up.$i" >>"$RESULTS/not-up.csv"
  rm -f "$RESULTS/.polls.$i" "$RESULTS/.not-up.$i"
done
[ "$bench_rc" = 0 ] || { echo "kvbench exited with status $bench_rc:" >&2; tail -20 "$RESULTS/kvbench.txt" >&2; exit 1; }
stop_nodes

# The figures.
ops=$(jnum "$RESULTS/kvbench.json" ops_per_sec)
errors=$(jnum "$RESULTS/kvbench.json" errors)
p99=$(jnum "$RESULTS/kvbench.json" p99)
read -r polls failed slowest fewest <<<"$(awk -F, 'NR > 1 { n++; c[$3]++; if ($4 != "ok") f++; if ($5 + 0 > s) s = $5 + 0 }
  END { m = -1; for (k in c) if (m < 0 || c[k] < m) m = c[k]; print n + 0, f + 0, s + 0, m }' "$RESULTS/polls.csv")"
incomplete=$(awk -F, -v n="$NODES" 'NR > 1 && $4 == "ok" && $6 != n { c++ } END { print c + 0 }' "$RESULTS/polls.csv")
count_state() {  # count_state STATE -> "PAIRS SAMPLES"
  awk -F, -v s="$1" 'NR > 1 && $5 == s { n++; p[$3 " " $4] = 1 } END { c = 0; for (k in p) c++; print c, n + 0 }' \
    "$RESULTS/not-up.csv"
}
read -r down_pairs down_samples <<<"$(count_state down)"
read -r suspect_pairs suspect_samples <<<"$(count_state suspect)"
pairs_of() { awk -F, -v s="$1" 'NR > 1 && $5 == s { p[$3 "->" $4] = 1 } END { for (k in p) printf "%s ", k }' "$RESULTS/not-up.csv"; }
warn_total=0
warn_each=""
for i in "${!NODE_IDS[@]}"; do
  c=$(grep -c -E ' WARN .*gossip' "${NODE_DIRS[$i]}/kvnode.log" || true)
  warn_total=$((warn_total + c))
  warn_each+="${warn_each:+, }${NODE_IDS[$i]} $c"
done
[ "$KEEP_DATA" = 1 ] || for d in "${NODE_DIRS[@]}"; do rm -rf "$d/data"; done
{
  echo "# false downs under load: $NODES nodes, ${DURATION} s ($(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores)"
  echo
  echo "kvbench closed loop on all $NODES nodes, $CONNS connections, ${VALUE}-byte values, read ratio 0.5, $KEYS keys; kvnode flags: $KVNODE_EXTRA (default detector settings). Every node's \`kvctl status --json\` polled every ${POLL_MS} ms, from the cluster's start to the load's end."
  echo
  echo "| what | value |"
  echo "|---|---|"
  echo "| load ops/s | ${ops:--} |"
  echo "| load p99 (µs) | ${p99:--} |"
  echo "| load errors | ${errors:--} |"
  echo "| polls (all nodes; fewest of one node) | $polls ($fewest) |"
  echo "| polls failed (no answer in 2 s) | $failed |"
  echo "| polls listing fewer or more than $NODES members | $incomplete |"
  echo "| slowest poll (ms) | $slowest |"
  echo "| **false downs** (observer, member pairs / samples; must be 0) | **$down_pairs** / $down_samples |"
  echo "| suspicions (pairs / samples) | $suspect_pairs / $suspect_samples |"
  echo "| gossip WARN lines in the logs | $warn_total ($warn_each) |"
  echo
  [ "$down_pairs" = 0 ] || echo "Pairs seen down: $(pairs_of down)(times and details: not-up.csv)."
  [ "$suspect_pairs" = 0 ] || echo "Pairs seen suspect: $(pairs_of suspect)"
  echo "Raw: polls.csv, not-up.csv, kvbench.json; logs: nodes$NODES/n<i>/kvnode.log."
} | tee "$RESULTS/summary.md"
echo "results in $RESULTS" >&2
[ "$down_pairs" = 0 ] || { echo "FAILED: $down_pairs (observer, member) pairs were seen down" >&2; exit 1; }
