#!/usr/bin/env bash
# run-cluster.sh — issue 4's benchmark: kvbench against a 3-node local cluster at
# (N,R,W) = (3,1,1), (3,2,2), (3,3,3), against a single node (1,1,1), and against
# redis-server (appendfsync everysec), all in one run on this machine.
#
#   50 connections spread over the cluster's nodes, 100-byte values, 50/50 get/put,
#   preloaded keys, warm-up, fixed duration; every kvnode runs --sync interval.
#   The staleness check runs on every kv run (with W+R>N and no failures it must be 0).
#
# Prints a markdown table (ops/s, p50, p99, stale fraction, ratio to the single node
# and to redis) and writes every kvbench JSON, summary.md and commands.txt to $RESULTS.
# Env (defaults): DURATION=10 WARMUP=2 KEYS=100000 CONNS=50 VALUE=100 READ_RATIO=0.5
#   DEPTH=1 RESULTS=bench/results/cluster-<time> KVBENCH=build/kvbench KVNODE=build/kvnode
#   KVCTL=build/kvctl REDIS=redis-server
#   KVNODE_EXTRA="" (more flags for every kvnode, e.g. "--secret-file FILE")
#   KVBENCH_EXTRA="" (more flags for every kvbench run against kvnode, e.g. "--overwrite")
# Every process it starts is stopped by pid on exit (also on error or Ctrl-C).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
KEYS=${KEYS:-100000}
CONNS=${CONNS:-50}
VALUE=${VALUE:-100}
READ_RATIO=${READ_RATIO:-0.5}
DEPTH=${DEPTH:-1}
KVBENCH=${KVBENCH:-build/kvbench}
KVNODE=${KVNODE:-build/kvnode}
KVCTL=${KVCTL:-build/kvctl}
REDIS=${REDIS:-redis-server}
KVNODE_EXTRA=${KVNODE_EXTRA:-}
KVBENCH_EXTRA=${KVBENCH_EXTRA:-}
RESULTS=${RESULTS:-bench/results/cluster-$(date +%Y%m%d-%H%M%S)}
for b in "$KVBENCH" "$KVNODE" "$KVCTL"; do [ -x "$b" ] || { echo "no $b: run make first" >&2; exit 1; }; done
command -v "$REDIS" >/dev/null || { echo "no $REDIS on PATH (apt-get install redis-server)" >&2; exit 1; }
mkdir -p "$RESULTS"
RESULTS=$(cd "$RESULTS" && pwd)
# shellcheck source=bench/lib.sh
. bench/lib.sh
bench_trap

declare -A OPS P50 P99 STALE ERRS
run_kvbench() {  # run_kvbench NAME EXTRA_FLAGS TARGET...
  local name=$1 extra=$2
  shift 2
  local json="$RESULTS/$name.json" targets=()
  for t in "$@"; do targets+=(--target "$t"); done
  # shellcheck disable=SC2206
  local cmd=("$KVBENCH" "${targets[@]}" --connections "$CONNS" --pipeline "$DEPTH" --keys "$KEYS"
             --value-size "$VALUE" --read-ratio "$READ_RATIO" --duration "$DURATION" --warmup "$WARMUP"
             --json "$json" --quiet $extra)
  echo "${cmd[*]}" >>"$RESULTS/commands.txt"
  echo "== $name" >&2
  "${cmd[@]}" >"$RESULTS/$name.txt" 2>&1 || { echo "kvbench failed:" >&2; cat "$RESULTS/$name.txt" >&2; exit 1; }
  OPS[$name]=$(jnum "$json" ops_per_sec)
  P50[$name]=$(jnum "$json" p50)
  P99[$name]=$(jnum "$json" p99)
  STALE[$name]=$(jnum "$json" stale_fraction)
  ERRS[$name]=$(jnum "$json" errors)
}

# start_nodes/stop_nodes (bench/lib.sh) start the nodes on free ports, seeded with each
# other, and wait until every node sees every other one up before the load starts.

: >"$RESULTS/commands.txt"

# Redis (appendonly, everysec): the single-server peer.
rport=$(free_port)
mkdir -p "$RESULTS/redis"
rcmd=("$REDIS" --port "$rport" --bind 127.0.0.1 --dir "$RESULTS/redis" --save '' --appendonly yes
      --appendfsync everysec --daemonize no --logfile "$RESULTS/redis/redis.log")
echo "${rcmd[*]}" >>"$RESULTS/commands.txt"
"${rcmd[@]}" &
rpid=$!
PIDS+=("$rpid")
wait_port "$rport" "$rpid" "$RESULTS/redis/redis.log"
run_kvbench redis "" "redis://127.0.0.1:$rport"
stop_pid "$rpid"

# One node, N=1.
start_nodes 1 "--n 1 --sync interval $KVNODE_EXTRA"
run_kvbench "n1-r1-w1" "--r 1 --w 1 $KVBENCH_EXTRA" "kv://${NODE_ADDRS[0]}"
stop_nodes

# Three nodes, N=3, at three consistency levels; a fresh cluster for each.
for rw in "1 1" "2 2" "3 3"; do
  set -- $rw
  start_nodes 3 "--n 3 --sync interval $KVNODE_EXTRA"
  targets=()
  for a in "${NODE_ADDRS[@]}"; do targets+=("kv://$a"); done
  run_kvbench "n3-r$1-w$2" "--r $1 --w $2 $KVBENCH_EXTRA" "${targets[@]}"
  stop_nodes
done

{
  echo "# kvring cluster vs one node vs redis-server ($(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores)"
  echo
  echo "$CONNS connections (spread over the cluster's nodes), pipeline $DEPTH, ${VALUE}-byte values, read ratio $READ_RATIO, $KEYS keys preloaded, ${WARMUP} s warm-up + ${DURATION} s measured, kvnode --sync interval, redis appendfsync everysec. Latency in µs."
  echo
  echo "| setup | (N,R,W) | ops/s | vs 1 node | vs redis | p50 | p99 | stale fraction | errors |"
  echo "|---|---|---|---|---|---|---|---|---|"
  echo "| redis-server | - | ${OPS[redis]:--} | - | 1.00 | ${P50[redis]:--} | ${P99[redis]:--} | - | ${ERRS[redis]:--} |"
  for name in n1-r1-w1 n3-r1-w1 n3-r2-w2 n3-r3-w3; do
    n=${name:1:1} r=${name:4:1} w=${name:7:1}
    echo "| $( [ "$n" = 1 ] && echo "1 node" || echo "3 nodes") | ($n,$r,$w) | ${OPS[$name]:--} | $(ratio "${OPS[$name]:-}" "${OPS[n1-r1-w1]:-}") | $(ratio "${OPS[$name]:-}" "${OPS[redis]:-}") | ${P50[$name]:--} | ${P99[$name]:--} | ${STALE[$name]:--} | ${ERRS[$name]:--} |"
  done
  echo
  echo "Goal (issue 4): (3,2,2) >= 40% of single-node throughput. Commands: commands.txt; raw results: *.json."
} | tee "$RESULTS/summary.md"
echo "results in $RESULTS" >&2
