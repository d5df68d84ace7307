#!/usr/bin/env bash
# run-node-vs-redis.sh — issue 3's benchmark: kvbench against one kvnode and against
# redis-server, in the same run on the same machine, reported as ratios.
#
#   pair "interval": kvnode --sync interval   vs  redis --appendonly yes --appendfsync everysec
#   pair "always":   kvnode --sync always     vs  redis --appendonly yes --appendfsync always
#   each at pipeline depth 1 and 16; 50 connections, 100-byte values, 50/50 get/put,
#   a preloaded key space (reads hit), a warm-up, then a fixed measured duration.
#
# Prints a table of ops/s, p50 and p99 for each run and the kvnode/redis ratio, and
# writes every kvbench JSON plus summary.md and commands.txt to $RESULTS.
# Without build/kvnode it measures redis alone (the kvnode columns say "-").
#
# Env (defaults): DURATION=10 WARMUP=2 KEYS=100000 CONNS=50 VALUE=100 READ_RATIO=0.5
#   DEPTHS="1 16" PAIRS="interval always" RESULTS=bench/results/node-vs-redis-<time>
#   KVBENCH=build/kvbench KVNODE=build/kvnode REDIS=redis-server
#   KVBENCH_EXTRA="" (more kvbench flags for the kvnode runs, e.g. "--overwrite")
#   KVNODE_EXTRA="--n 1" (a lone node holds every replica; kvnode's default N is 3)
# Every process it starts is stopped by pid on exit (also on error or Ctrl-C).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
KEYS=${KEYS:-100000}
CONNS=${CONNS:-50}
VALUE=${VALUE:-100}
READ_RATIO=${READ_RATIO:-0.5}
DEPTHS=${DEPTHS:-"1 16"}
PAIRS=${PAIRS:-"interval always"}
KVBENCH=${KVBENCH:-build/kvbench}
KVNODE=${KVNODE:-build/kvnode}
KVBENCH_EXTRA=${KVBENCH_EXTRA:-}
REDIS=${REDIS:-redis-server}
KVNODE_EXTRA=${KVNODE_EXTRA:---n 1}
RESULTS=${RESULTS:-bench/results/node-vs-redis-$(date +%Y%m%d-%H%M%S)}

[ -x "$KVBENCH" ] || { echo "no $KVBENCH: run 'make -j2 $KVBENCH' first" >&2; exit 1; }
command -v "$REDIS" >/dev/null || { echo "no $REDIS on PATH (apt-get install redis-server)" >&2; exit 1; }
HAVE_KVNODE=1
[ -x "$KVNODE" ] || { HAVE_KVNODE=0; echo "note: $KVNODE not built: measuring redis alone" >&2; }
mkdir -p "$RESULTS"
RESULTS=$(cd "$RESULTS" && pwd)
# shellcheck source=bench/lib.sh
. bench/lib.sh
bench_trap

declare -A OPS P50 P99 ERRS
run_kvbench() {  # run_kvbench NAME TARGET DEPTH [EXTRA_FLAGS]
  local json="$RESULTS/$1-d$3.json"
  # shellcheck disable=SC2206  # $4 is a list of flags
  local cmd=("$KVBENCH" --target "$2" --connections "$CONNS" --pipeline "$3" --keys "$KEYS"
             --value-size "$VALUE" --read-ratio "$READ_RATIO" --duration "$DURATION" --warmup "$WARMUP"
             --json "$json" --quiet ${4:-})
  echo "${cmd[*]}" >>"$RESULTS/commands.txt"
  echo "== $1, pipeline $3" >&2
  "${cmd[@]}" >"$RESULTS/$1-d$3.txt" 2>&1 || { echo "kvbench failed:" >&2; cat "$RESULTS/$1-d$3.txt" >&2; exit 1; }
  OPS[$1-$3]=$(jnum "$json" ops_per_sec)
  P50[$1-$3]=$(jnum "$json" p50)
  P99[$1-$3]=$(jnum "$json" p99)
  ERRS[$1-$3]=$(jnum "$json" errors)
}

run_redis() {  # run_redis FSYNC_MODE
  local port dir pid
  port=$(free_port)
  dir="$RESULTS/redis-$1"
  mkdir -p "$dir"
  local cmd=("$REDIS" --port "$port" --bind 127.0.0.1 --dir "$dir" --save '' --appendonly yes
             --appendfsync "$1" --daemonize no --logfile "$dir/redis.log")
  echo "${cmd[*]}" >>"$RESULTS/commands.txt"
  "${cmd[@]}" &
  pid=$!
  PIDS+=("$pid")
  wait_port "$port" "$pid" "$dir/redis.log"
  for d in $DEPTHS; do run_kvbench "redis-$1" "redis://127.0.0.1:$port" "$d"; done
  stop_pid "$pid"
}

run_kvnode() {  # run_kvnode SYNC_MODE
  local port dir pid
  port=$(free_port)
  dir="$RESULTS/kvnode-$1"
  rm -rf "$dir/data"
  mkdir -p "$dir"
  # shellcheck disable=SC2206  # KVNODE_EXTRA is a list of flags
  local cmd=("$KVNODE" --id n1 --listen "127.0.0.1:$port" --data "$dir/data" --sync "$1" $KVNODE_EXTRA)
  echo "${cmd[*]}" >>"$RESULTS/commands.txt"
  "${cmd[@]}" >"$dir/kvnode.log" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  wait_port "$port" "$pid" "$dir/kvnode.log"
  for d in $DEPTHS; do run_kvbench "kvnode-$1" "kv://127.0.0.1:$port" "$d" "$KVBENCH_EXTRA"; done
  stop_pid "$pid"
}

: >"$RESULTS/commands.txt"
for pair in $PAIRS; do
  case $pair in
    interval) redis_mode=everysec ;;
    always) redis_mode=always ;;
    *) echo "unknown pair '$pair' (interval, always)" >&2; exit 1 ;;
  esac
  run_redis "$redis_mode"
  [ "$HAVE_KVNODE" = 1 ] && run_kvnode "$pair"
done

# The table: one row per (durability pair, depth).
{
  echo "# kvnode vs redis-server ($(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores)"
  echo
  echo "$CONNS connections, ${VALUE}-byte values, read ratio $READ_RATIO, $KEYS keys preloaded, ${WARMUP} s warm-up + ${DURATION} s measured. Latency in µs."
  echo
  echo "| durability | depth | kvnode ops/s | redis ops/s | ratio | kvnode p50 | redis p50 | kvnode p99 | redis p99 | p99 ratio | errors (kvnode/redis) |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|"
  for pair in $PAIRS; do
    case $pair in interval) rm=everysec ;; always) rm=always ;; esac
    for d in $DEPTHS; do
      k="kvnode-$pair-$d" r="redis-$rm-$d"
      echo "| $pair / $rm | $d | ${OPS[$k]:--} | ${OPS[$r]:--} | $(ratio "${OPS[$k]:-}" "${OPS[$r]:-}") | ${P50[$k]:--} | ${P50[$r]:--} | ${P99[$k]:--} | ${P99[$r]:--} | $(ratio "${P99[$k]:-}" "${P99[$r]:-}") | ${ERRS[$k]:--}/${ERRS[$r]:--} |"
    done
  done
  echo
  echo "Goal (issue 3): ops/s ratio >= 1.0 and p99 ratio <= 1.0 in every row. Commands: commands.txt; raw results: *.json."
} | tee "$RESULTS/summary.md"
echo "results in $RESULTS" >&2
