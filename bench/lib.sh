# bench/lib.sh — shell helpers shared by the comparison scripts (sourced, not run).
# Processes a script starts go into PIDS; `bench_cleanup` (installed as the EXIT
# trap by bench_trap) stops each by pid: SIGTERM, up to 10 s, then SIGKILL.

PIDS=()
stop_pid() {  # stop_pid PID
  kill -TERM "$1" 2>/dev/null || return 0
  for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
  echo "pid $1 ignored SIGTERM for 10 s: killing it" >&2
  kill -KILL "$1" 2>/dev/null || true
}
bench_cleanup() { for pid in "${PIDS[@]}"; do stop_pid "$pid"; done; }
bench_trap() {
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
}

port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
  local p
  for _ in $(seq 100); do
    p=$(( 20000 + RANDOM % 40000 ))
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
