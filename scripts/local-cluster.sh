#!/usr/bin/env bash
# local-cluster.sh — starts a local kvring cluster on loopback and keeps it in the
# foreground; Ctrl-C (or SIGTERM) stops every node cleanly by its pid.
#
#   NODES=3 BASE_PORT=7000 DATA=./data SYNC=interval N=3 R=QUORUM W=QUORUM scripts/local-cluster.sh
#
# Node i listens on 127.0.0.1:(BASE_PORT+i-1) with id n<i> and data in $DATA/n<i>;
# logs go to $DATA/n<i>.log. Data survives restarts (delete $DATA to start afresh).
set -euo pipefail
cd "$(dirname "$0")/.."
NODES=${NODES:-3}
BASE_PORT=${BASE_PORT:-7000}
DATA=${DATA:-./data}
SYNC=${SYNC:-interval}
N=${N:-3}
R=${R:-QUORUM}
W=${W:-QUORUM}
BIN=${BIN:-build}
for b in kvnode kvctl; do
  [ -x "$BIN/$b" ] || { echo "local-cluster: $BIN/$b is missing; run make first" >&2; exit 2; }
done
mkdir -p "$DATA"
seeds=""
for i in $(seq 1 "$NODES"); do seeds+="${seeds:+,}127.0.0.1:$((BASE_PORT + i - 1))"; done

pids=()
stop() {
  trap - INT TERM EXIT
  echo; echo "stopping ${#pids[@]} node(s)..."
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  echo "stopped"
}
trap stop INT TERM EXIT

for i in $(seq 1 "$NODES"); do
  port=$((BASE_PORT + i - 1))
  "$BIN/kvnode" --id "n$i" --listen "127.0.0.1:$port" --data "$DATA/n$i" --seeds "$seeds" \
    --sync "$SYNC" --n "$N" --r "$R" --w "$W" >>"$DATA/n$i.log" 2>&1 &
  pids+=($!)
done

# Wait until the first node answers and knows every member.
for _ in $(seq 1 100); do
  if members=$("$BIN/kvctl" --host "127.0.0.1:$BASE_PORT" --timeout 500 status 2>/dev/null) &&
     [ "$(printf '%s\n' "$members" | grep -c -E ' (up|self) ')" -ge "$NODES" ]; then
    break
  fi
  sleep 0.1
done
for i in $(seq 1 "$NODES"); do
  kill -0 "${pids[$((i - 1))]}" 2>/dev/null || { echo "node n$i failed to start; see $DATA/n$i.log:"; tail -5 "$DATA/n$i.log"; exit 1; }
done

cat <<EOT
kvring: $NODES node(s) on 127.0.0.1:$BASE_PORT..$((BASE_PORT + NODES - 1)) (N=$N, R=$R, W=$W, sync=$SYNC), data in $DATA/
$("$BIN/kvctl" --host "127.0.0.1:$BASE_PORT" status)

Try, in another terminal:
  $BIN/kvctl put greeting hello
  $BIN/kvctl --host 127.0.0.1:$((BASE_PORT + NODES - 1)) get greeting
  $BIN/kvctl ring
  $BIN/kvbench --target kv://127.0.0.1:$BASE_PORT --target kv://127.0.0.1:$((BASE_PORT + 1)) --duration 10
Ctrl-C stops the cluster.
EOT
wait
