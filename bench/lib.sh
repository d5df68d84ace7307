# shellcheck shell=bash
# bench/lib.sh — shell helpers shared by the comparison scripts (sourced, not run).
# Processes a script starts go into PIDS; `bench_cleanup` (installed as the EXIT
# trap by bench_trap) stops each by pid: SIGTERM (and SIGCONT, for a process a
# script stopped), up to 10 s, then SIGKILL.

PIDS=()
stop_pid() {  # stop_pid PID
  kill -TERM "$1" 2>/dev/null || return 0
  kill -CONT "$1" 2>/dev/null || true  # a SIGSTOPped process acts on SIGTERM only once continued
  for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
  echo "pid $1 ignored SIGTERM for 10 s: killing it" >&2
  kill -KILL "$1" 2>/dev/null || true
}
# Drops PID from PIDS (once it is gone and reaped, so that cleanup never signals a reused pid).
forget_pid() {  # forget_pid PID
  local keep=() p
  for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
  PIDS=("${keep[@]}")
}
# Stops several pids at once: SIGTERM (and SIGCONT) to each, then waits for each (up to
# 10 s, then SIGKILL), and reaps those that are children of this shell.
stop_pids() {  # stop_pids PID...
  local p
  for p in "$@"; do
    kill -TERM "$p" 2>/dev/null || continue
    kill -CONT "$p" 2>/dev/null || true
  done
  for p in "$@"; do
    stop_pid "$p"
    wait "$p" 2>/dev/null || true
  done
}
bench_cleanup() { stop_pids "${PIDS[@]}"; }
bench_trap() {
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
}

port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# A port nothing listens on, below the kernel's ephemeral range (so that no outgoing
# connection, e.g. one of the many kvctl calls of a poller, holds it when a node binds it).
free_port() {
  local p low=32768 range
  range=$(cat /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null) && low=${range%%[[:space:]]*}
  [ "$low" -gt 12000 ] || low=32768
  for _ in $(seq 100); do
    p=$(( 10000 + RANDOM % (low - 10000) ))
    port_taken "$p" || { echo "$p"; return; }
  done
  echo "no free port found" >&2; exit 1
}
wait_port() {  # wait_port PORT PID LOG
  for _ in $(seq 100); do
    port_taken "$1" && return 0
    kill -0 "$2" 2>/dev/null || { echo "server exited; its log:" >&2; tail -20 "$3" >&2; exit 1; }
    sleep 0.1
  done
  echo "server on port $1 did not start; its log:" >&2; tail -20 "$3" >&2; exit 1
}

# First top-level occurrence of a numeric key in a kvbench JSON file.
jnum() { grep -m1 -o "\"$2\": [0-9.eE+-]*" "$1" | awk '{print $2}'; }
# a/b with two decimals, "-" when either is missing or b is 0.
ratio() { if [ -n "${1:-}" ] && [ -n "${2:-}" ]; then awk -v a="$1" -v b="$2" 'BEGIN { printf (b > 0 ? "%.2f" : "-"), a / b }'; else echo -; fi; }

# Microseconds since the epoch, without a fork (bash 5's EPOCHREALTIME).
now_us() { echo "${EPOCHREALTIME/[.,]/}"; }

# ---- local clusters --------------------------------------------------------------
# The caller sets KVNODE, KVCTL and RESULTS (an absolute path); every command run is
# appended to $RESULTS/commands.txt.

# parse_member_states JSON: reads the output of `kvctl status --json` into the
# associative arrays MEMBER_STATE[id] (self, up, suspect or down), MEMBER_GEN[id]
# (generation) and MEMBER_DETAIL[id], in-process (no fork: pollers call it often).
# shellcheck disable=SC2034  # MEMBER_GEN and MEMBER_DETAIL are for the callers
declare -A MEMBER_STATE=() MEMBER_GEN=() MEMBER_DETAIL=()
parse_member_states() {
  local j=$1
  # Up to "detail" (a member's object may go on with nested objects after it).
  local re='\{"id": "([^"]*)"[^}]*"state": "([a-z]+)"[^}]*"generation": ([0-9]+)[^}]*"detail": "(([^"\\]|\\.)*)"'
  MEMBER_STATE=()
  MEMBER_GEN=()
  MEMBER_DETAIL=()
  while [[ $j =~ $re ]]; do
    MEMBER_STATE[${BASH_REMATCH[1]}]=${BASH_REMATCH[2]}
    MEMBER_GEN[${BASH_REMATCH[1]}]=${BASH_REMATCH[3]}
    MEMBER_DETAIL[${BASH_REMATCH[1]}]=${BASH_REMATCH[4]}
    j=${j#*"${BASH_REMATCH[0]}"}
  done
}

# start_nodes COUNT EXTRA_FLAGS [DIR]
#   Starts kvnodes n1..nCOUNT on free loopback ports, each with --seeds listing every
#   node (none when COUNT is 1), data in DIR/n<i>/data, log DIR/n<i>/kvnode.log (DIR
#   defaults to $RESULTS/nodes<COUNT>, emptied first), then waits until the cluster is
#   up (wait_cluster_up). Sets NODE_IDS, NODE_ADDRS, NODE_PORTS, NODE_DIRS, NODE_PIDS
#   (index 0 is n1); the pids also go into PIDS.
start_nodes() {
  local count=$1 i p
  NODE_EXTRA=$2
  local base=${3:-$RESULTS/nodes$count}
  NODE_IDS=() NODE_ADDRS=() NODE_PORTS=() NODE_DIRS=() NODE_PIDS=() NODE_SEEDS=""
  for i in $(seq "$count"); do
    # free_port checks the port is free now; taking distinct ones keeps two nodes apart.
    while :; do
      p=$(free_port)
      [[ " ${NODE_PORTS[*]} " == *" $p "* ]] || break
    done
    NODE_PORTS+=("$p")
    NODE_IDS+=("n$i")
    NODE_ADDRS+=("127.0.0.1:$p")
    NODE_DIRS+=("$base/n$i")
    NODE_SEEDS+="${NODE_SEEDS:+,}127.0.0.1:$p"
  done
  for i in "${!NODE_IDS[@]}"; do
    rm -rf "${NODE_DIRS[$i]}"
    mkdir -p "${NODE_DIRS[$i]}"
    launch_node "$i"
  done
  for i in "${!NODE_IDS[@]}"; do wait_port "${NODE_PORTS[$i]}" "${NODE_PIDS[$i]}" "${NODE_DIRS[$i]}/kvnode.log"; done
  wait_cluster_up 30
}

# launch_node INDEX: starts node INDEX (0-based) in the background with the flags
# start_nodes gave it (same id, port and data directory; its log is appended to).
launch_node() {
  local i=$1 seed_flag=()
  [ "${#NODE_IDS[@]}" -gt 1 ] && seed_flag=(--seeds "$NODE_SEEDS")
  # shellcheck disable=SC2206  # NODE_EXTRA is a list of flags
  local cmd=("$KVNODE" --id "${NODE_IDS[$i]}" --listen "${NODE_ADDRS[$i]}" --data "${NODE_DIRS[$i]}/data"
             "${seed_flag[@]}" $NODE_EXTRA)
  echo "${cmd[*]}" >>"$RESULTS/commands.txt"
  "${cmd[@]}" >>"${NODE_DIRS[$i]}/kvnode.log" 2>&1 &
  NODE_PIDS[i]=$!
  PIDS+=($!)
}

# restart_node INDEX: launch_node, then wait until its port answers.
restart_node() {
  launch_node "$1"
  wait_port "${NODE_PORTS[$1]}" "${NODE_PIDS[$1]}" "${NODE_DIRS[$1]}/kvnode.log"
}

# kill_node INDEX: SIGKILL node INDEX, reap it and forget its pid.
kill_node() {
  local pid=${NODE_PIDS[$1]}
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  forget_pid "$pid"
}

# node_view_ok INDEX: true when node INDEX's `kvctl status --json` lists exactly the
# cluster's nodes, itself as self and every other one up.
node_view_ok() {
  local json i want
  json=$("$KVCTL" --host "${NODE_ADDRS[$1]}" --timeout 1000 status --json 2>/dev/null) || return 1
  parse_member_states "$json"
  [ "${#MEMBER_STATE[@]}" -eq "${#NODE_IDS[@]}" ] || return 1
  for i in "${!NODE_IDS[@]}"; do
    want=up
    [ "$i" = "$1" ] && want=self
    [ "${MEMBER_STATE[${NODE_IDS[$i]}]:-}" = "$want" ] || return 1
  done
}

# wait_cluster_up [TIMEOUT_S]: waits (default 30 s) until one pass over all nodes finds
# every node seeing every other up and itself self; otherwise prints the view of the
# first node that disagrees and exits 1.
wait_cluster_up() {
  local limit=${1:-30} deadline i bad
  deadline=$(( $(now_us) + limit * 1000000 ))
  while :; do
    bad=""
    for i in "${!NODE_IDS[@]}"; do
      node_view_ok "$i" || { bad=$i; break; }
    done
    [ -z "$bad" ] && return 0
    if [ "$(now_us)" -gt "$deadline" ]; then
      echo "the cluster is not up after $limit s; ${NODE_IDS[$bad]} sees:" >&2
      "$KVCTL" --host "${NODE_ADDRS[$bad]}" --timeout 1000 status >&2 || true
      exit 1
    fi
    sleep 0.05
  done
}

# stop_nodes: stops every node of the last start_nodes (SIGTERM, all at once) and
# forgets their pids.
stop_nodes() {
  local p
  stop_pids "${NODE_PIDS[@]}"
  for p in "${NODE_PIDS[@]}"; do forget_pid "$p"; done
}

# stat_value STATS_TEXT NAME: the value of one `kvctl stats` line ("name value"), empty if absent.
stat_value() { printf '%s\n' "$1" | awk -v k="$2" '$1 == k { print $2; exit }'; }

# kvbench_cmd NAME FLAGS...: sets CMD to "$KVBENCH FLAGS... --json $RESULTS/NAME.json"
# and records it in $RESULTS/commands.txt.
kvbench_cmd() {
  local name=$1
  shift
  CMD=("$KVBENCH" "$@" --json "$RESULTS/$name.json")
  echo "${CMD[*]}" >>"$RESULTS/commands.txt"
}
# run_kvbench NAME FLAGS...: kvbench_cmd, run in the background and waited for (Ctrl-C
# stops it by pid), output in $RESULTS/NAME.txt; exits 1 with its tail if it fails.
run_kvbench() {
  local name=$1 pid rc=0
  kvbench_cmd "$@"
  echo "== $name" >&2
  "${CMD[@]}" --quiet >"$RESULTS/$name.txt" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  wait "$pid" || rc=$?
  forget_pid "$pid"
  [ "$rc" = 0 ] || { echo "kvbench $name failed (status $rc):" >&2; tail -20 "$RESULTS/$name.txt" >&2; exit 1; }
}
