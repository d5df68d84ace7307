#!/usr/bin/env bash
# run-auth-cost.sh — what client authentication costs a kvnode: the same kvbench
# load against one node without and with --users-file (clients authenticated,
# every request's role checked), interleaved off/on ROUNDS times. Prints, per
# run, the node's CPU time (utime+stime from /proc), the operations done and the
# CPU per operation: on a shared machine CPU per operation moves less than ops/s.
#
# Env (defaults): ROUNDS=3 DURATION=8 CONNS=50 KEYS=100000 PORT=<a free one>
#   KVBENCH=build/kvbench KVNODE=build/kvnode RESULTS=bench/results/auth-cost-<time>
# Every process it starts is stopped by pid on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-8}
CONNS=${CONNS:-50}
KEYS=${KEYS:-100000}
KVBENCH=${KVBENCH:-build/kvbench}
KVNODE=${KVNODE:-build/kvnode}
RESULTS=${RESULTS:-bench/results/auth-cost-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$RESULTS"
# shellcheck source=bench/lib.sh
. bench/lib.sh
bench_trap
PORT=${PORT:-$(free_port)}

umask 077
head -c 32 /dev/urandom | base64 >"$RESULTS/secret"
printf 'bench-password\n' | build/kvctl hash-password bench read-write >"$RESULTS/users"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

run() {  # run NAME [KVNODE FLAGS...]
  local name=$1 data="$RESULTS/data-$1"
  shift
  "$KVNODE" --id n1 --listen "127.0.0.1:$PORT" --data "$data" --n 1 "$@" >"$RESULTS/$name.log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  wait_port "$PORT" "$pid" "$RESULTS/$name.log"
  local t0 t1
  t0=$(cpu_ticks "$pid")
  "$KVBENCH" --target "kv://127.0.0.1:$PORT" --connections "$CONNS" --keys "$KEYS" --value-size 100 \
    --read-ratio 0.5 --duration "$DURATION" --warmup 0 --no-preload --quiet --json "$RESULTS/$name.json" \
    >"$RESULTS/$name.txt" 2>&1
  t1=$(cpu_ticks "$pid")
  stop_pids "$pid"
  forget_pid "$pid"
  local ops errors
  ops=$(jnum "$RESULTS/$name.json" ops)
  errors=$(jnum "$RESULTS/$name.json" errors)
  awk -v n="$name" -v t=$((t1 - t0)) -v o="$ops" -v e="$errors" -v d="$DURATION" \
    'BEGIN { printf "%-6s ops/s %8.0f  cpu %5.2f s  cpu/op %5.2f us  errors %s\n", n, o / d, t / 100, t * 1e4 / o, e }' |
    tee -a "$RESULTS/summary.txt"
  rm -rf "$data"
}

for i in $(seq "$ROUNDS"); do
  run "off-$i"
  KVRING_USER=bench KVRING_PASSWORD=bench-password \
    run "on-$i" --secret-file "$RESULTS/secret" --users-file "$RESULTS/users"
done
