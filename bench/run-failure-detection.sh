#!/usr/bin/env bash
# run-failure-detection.sh — how fast the failure detector notices a node stopping and
# coming back. A 5-node local cluster at kvnode's default detector settings (probe a
# member silent 500 ms, suspect it after 1 s of silence, down once a direct probe and a
# second member agree), no load.
#
#   TRIALS trials of SIGSTOP of a random node, then SIGCONT;
#   TRIALS trials of SIGKILL of a random node, then a restart (same id, port, data dir).
#
# In each trial every other node (the observers) is polled with `kvctl status --json`
# (one poller per observer, a poll every ~POLL_MS ms plus the call itself) from the
# signal until it shows the victim `down`, then from SIGCONT/the restart until it shows
# it `up`. A time is taken when the poll that first showed the state returned, so it
# can be up to one poll period (plus ~5 ms for the call) late. The figure per trial is
# the time until the LAST observer agreed.
#
# Prints a markdown table per event (SIGSTOP->down, SIGCONT->up, SIGKILL->down,
# restart->up): min / median / p90 / max over the trials (nearest rank), how many trials
# took over 3 s (->down) or 2 s (->up), and the median of the first observer. Files in
# $RESULTS: events.csv (one row per trial and event: the last and first observer's
# times), observers.csv (one row per trial, event and observer, with its number of polls
# and its slowest `kvctl status` call: the error bar of its time), transitions.csv (every
# state change each poller saw, with poll counts), summary.md, commands.txt, node logs.
#
# Env (defaults): TRIALS=20 NODES=5 POLL_MS=25 SETTLE_S=1 GIVE_UP_S=30
#   RESULTS=bench/results/failure-detection-<time> KVNODE=build/kvnode KVCTL=build/kvctl
#   KVNODE_EXTRA="--sync interval" (flags for every node; default detector settings)
# A trial whose state is not reached within GIVE_UP_S counts as over the limit and is
# shown as "timeout". Takes about 3 s per trial (TRIALS=20, 40 trials: ~2-3 minutes).
# Every process it starts is stopped by pid on exit (also on error or Ctrl-C).
set -euo pipefail
cd "$(dirname "$0")/.."

TRIALS=${TRIALS:-20}
NODES=${NODES:-5}
POLL_MS=${POLL_MS:-25}
SETTLE_S=${SETTLE_S:-1}
GIVE_UP_S=${GIVE_UP_S:-30}
KVNODE=${KVNODE:-build/kvnode}
KVCTL=${KVCTL:-build/kvctl}
KVNODE_EXTRA=${KVNODE_EXTRA:---sync interval}
RESULTS=${RESULTS:-bench/results/failure-detection-$(date +%Y%m%d-%H%M%S)}
DOWN_LIMIT_MS=3000
UP_LIMIT_MS=2000
for b in "$KVNODE" "$KVCTL"; do [ -x "$b" ] || { echo "no $b: run 'make -j2 $b' first" >&2; exit 1; }; done
[ "$NODES" -ge 3 ] || { echo "NODES must be at least 3 (down needs a second member to agree)" >&2; exit 1; }
mkdir -p "$RESULTS"
RESULTS=$(cd "$RESULTS" && pwd)
# shellcheck source=bench/lib.sh
. bench/lib.sh
bench_trap

: >"$RESULTS/commands.txt"
echo "trial,event,victim,last_ms,first_ms,observers" >"$RESULTS/events.csv"
echo "trial,event,victim,observer,ms,polls,slowest_poll_ms" >"$RESULTS/observers.csv"
echo "trial,event,victim,observer,ms,polls,state,generation,detail" >"$RESULTS/transitions.csv"
POLL_SLEEP=$(awk -v m="$POLL_MS" 'BEGIN { printf "%.3f", m / 1000 }')

# watch_observer OBSERVER_INDEX VICTIM_ID WANT T0_US OUT — polls one observer until it shows the
# victim in state WANT (or GIVE_UP_S passes); writes "MS POLLS SLOWEST_CALL_MS" (MS is
# "timeout" if it gave up) to OUT and every state change it saw to OUT.transitions. Runs in the background.
watch_observer() {
  local addr=${NODE_ADDRS[$1]} victim=$2 want=$3 t0=$4 out=$5
  local deadline=$((t0 + GIVE_UP_S * 1000000)) polls=0 last="" json now ms state start slowest=0
  : >"$out.transitions"
  while :; do
    start=${EPOCHREALTIME/[.,]/}
    json=$("$KVCTL" --host "$addr" --timeout 1000 status --json 2>/dev/null) || json=""
    now=${EPOCHREALTIME/[.,]/}
    polls=$((polls + 1))
    [ $((now - start)) -gt "$slowest" ] && slowest=$((now - start))
    ms=$(((now - t0) / 1000))
    parse_member_states "$json"
    state=${MEMBER_STATE[$victim]:-unreachable}
    if [ "$state" != "$last" ]; then
      echo "$ms,$polls,$state,${MEMBER_GEN[$victim]:-},\"${MEMBER_DETAIL[$victim]:-}\"" >>"$out.transitions"
      last=$state
    fi
    if [ "$state" = "$want" ]; then echo "$ms $polls $((slowest / 1000))" >"$out"; return 0; fi
    if [ "$now" -gt "$deadline" ]; then echo "timeout $polls $((slowest / 1000))" >"$out"; return 0; fi
    sleep "$POLL_SLEEP"
  done
}

# observe TRIAL EVENT VICTIM_INDEX WANT T0_US — one watcher per other node, waits for
# them all, appends the rows to the CSVs and sets LAST_MS (the last observer's time, or
# "timeout" if any observer timed out).
observe() {
  local trial=$1 event=$2 v=$3 want=$4 t0=$5 i pids=() tmp="$RESULTS/.watch"
  local victim=${NODE_IDS[$v]}
  mkdir -p "$tmp"
  for i in "${!NODE_IDS[@]}"; do
    [ "$i" = "$v" ] && continue
    rm -f "$tmp/$i"
    watch_observer "$i" "$victim" "$want" "$t0" "$tmp/$i" &
    pids+=($!)
    PIDS+=($!)
  done
  for i in "${pids[@]}"; do wait "$i" || true; forget_pid "$i"; done
  for i in "${!NODE_IDS[@]}"; do
    [ "$i" = "$v" ] || [ -s "$tmp/$i" ] || echo "timeout 0 0" >"$tmp/$i"  # a watcher that died
    touch "$tmp/$i.transitions"
  done
  local last=-1 first="" timed_out=0 agreed=0 ms polls slowest
  for i in "${!NODE_IDS[@]}"; do
    [ "$i" = "$v" ] && continue
    read -r ms polls slowest <"$tmp/$i"
    echo "$trial,$event,$victim,${NODE_IDS[$i]},$ms,$polls,$slowest" >>"$RESULTS/observers.csv"
    sed "s/^/$trial,$event,$victim,${NODE_IDS[$i]},/" "$tmp/$i.transitions" >>"$RESULTS/transitions.csv"
    if [ "$ms" = timeout ]; then
      timed_out=1
    else
      agreed=$((agreed + 1))
      [ "$ms" -gt "$last" ] && last=$ms
      if [ -z "$first" ] || [ "$ms" -lt "$first" ]; then first=$ms; fi
    fi
  done
  [ "$timed_out" = 1 ] && last=timeout
  echo "$trial,$event,$victim,$last,${first:-timeout},$agreed" >>"$RESULTS/events.csv"
  LAST_MS=$last
}

echo "starting $NODES nodes" >&2
start_nodes "$NODES" "$KVNODE_EXTRA"

trial=0
for kind in stop kill; do
  for _ in $(seq "$TRIALS"); do
    trial=$((trial + 1))
    wait_cluster_up "$GIVE_UP_S"
    sleep "$SETTLE_S"
    v=$((RANDOM % NODES))
    victim=${NODE_IDS[$v]}
    if [ "$kind" = stop ]; then
      t0=${EPOCHREALTIME/[.,]/}
      kill -STOP "${NODE_PIDS[$v]}"
      observe "$trial" "SIGSTOP->down" "$v" down "$t0"
      down=$LAST_MS
      t0=${EPOCHREALTIME/[.,]/}
      kill -CONT "${NODE_PIDS[$v]}"
      observe "$trial" "SIGCONT->up" "$v" up "$t0"
      up=$LAST_MS
    else
      t0=${EPOCHREALTIME/[.,]/}
      kill_node "$v"
      observe "$trial" "SIGKILL->down" "$v" down "$t0"
      down=$LAST_MS
      t0=${EPOCHREALTIME/[.,]/}
      launch_node "$v"  # observe starts polling at once; the process opens its port meanwhile
      observe "$trial" "restart->up" "$v" up "$t0"
      up=$LAST_MS
      wait_port "${NODE_PORTS[$v]}" "${NODE_PIDS[$v]}" "${NODE_DIRS[$v]}/kvnode.log"
    fi
    echo "trial $trial: $kind $victim: down after $down ms, up after $up ms" >&2
  done
done
rm -rf "$RESULTS/.watch"

# The table, from events.csv.
summarize() {  # summarize EVENT LIMIT_MS
  awk -F, -v ev="$1" -v lim="$2" '
    $2 == ev { n++; if ($4 == "timeout") { over++; to++ } else { v[++k] = $4 + 0; if ($4 + 0 > lim) over++ }
               if ($5 != "timeout") f[++m] = $5 + 0 }
    function sort(a, c,   i, j, t) { for (i = 2; i <= c; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t } }
    function rank(a, c, q,   r) { r = int(q * c); if (r < q * c) r++; if (r < 1) r = 1; return a[r] }
    END {
      if (n == 0) { printf "| %s | 0 | - | - | - | - | - | - |\n", ev; exit }
      sort(v, k); sort(f, m)
      # Timeouts sort above every time: percentiles over all n trials.
      for (i = k + 1; i <= n; i++) v[i] = "timeout"
      printf "| %s | %d | %s | %s | %s | %s | %d | %s |\n", ev, n, (k ? v[1] : "timeout"), rank(v, n, 0.5),
             rank(v, n, 0.9), v[n], over + 0, (m ? rank(f, m, 0.5) : "-")
    }' "$RESULTS/events.csv"
}
{
  echo "# failure detection: $NODES nodes, $TRIALS trials per kind ($(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores)"
  echo
  echo "Time from the signal (or the restart) until the last of the $((NODES - 1)) other nodes showed the victim down / up, in ms; polls every ~${POLL_MS} ms + the call. kvnode flags: $KVNODE_EXTRA (default detector settings). Over: trials above ${DOWN_LIMIT_MS} ms (->down) or ${UP_LIMIT_MS} ms (->up), timeouts (${GIVE_UP_S} s) included."
  echo
  echo "| event | trials | min | median | p90 | max | over limit | median, first observer |"
  echo "|---|---|---|---|---|---|---|---|"
  summarize "SIGSTOP->down" "$DOWN_LIMIT_MS"
  summarize "SIGCONT->up" "$UP_LIMIT_MS"
  summarize "SIGKILL->down" "$DOWN_LIMIT_MS"
  summarize "restart->up" "$UP_LIMIT_MS"
  echo
  echo "Raw: events.csv (per trial), observers.csv (per observer), transitions.csv (every state change seen)."
} | tee "$RESULTS/summary.md"
echo "results in $RESULTS" >&2
