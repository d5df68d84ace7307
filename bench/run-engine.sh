#!/usr/bin/env bash
# bench/run-engine.sh — kvring's engine against LevelDB and RocksDB, side by side.
#
# Runs build/engine_bench for kvring, leveldb and rocksdb one after the other with
# identical flags, REPS times, on the storage-engine issue's workloads:
#   main      fillseq,fillrandom,overwrite,readrandom,readmissing,readseq
#             (NUM entries, 16-byte keys, 100-byte values, 8 MiB block cache)
#   fillsync  SYNC_NUM durable puts with --threads=1 and --threads=16
#   10x       fillrandom,readrandom,readmissing,readseq with --data_to_cache=10
#             (the block cache is a tenth of the data set)
# and prints a markdown table: µs/op as median [min-max] per engine, and
# LevelDB µs / kvring µs per line (above 1.0: kvring is faster).
#
#   bench/run-engine.sh                      # 3 repetitions, about 6-8 minutes
#   REPS=1 NUM=200000 bench/run-engine.sh    # a quick look
#   ENGINES="kvring leveldb" bench/run-engine.sh
#
# Env: REPS (3), NUM (1000000), SYNC_NUM (10000), ENGINES ("kvring leveldb
# rocksdb"), ENGINE_BENCH (build/engine_bench, built with make when it is the
# default), OUT (keep raw outputs there; default: a temp dir, removed).
# Every engine_bench runs under `timeout` and is stopped by its pid if the
# script is interrupted; its DB and temp files under /tmp are removed at exit.
set -euo pipefail

cd "$(dirname "$0")/.."
REPS=${REPS:-3}
NUM=${NUM:-1000000}
SYNC_NUM=${SYNC_NUM:-10000}
ENGINES=${ENGINES:-"kvring leveldb rocksdb"}
ENGINE_BENCH=${ENGINE_BENCH:-build/engine_bench}
STEP_TIMEOUT=${STEP_TIMEOUT:-900}

WORK=$(mktemp -d /tmp/run-engine.XXXXXX)
RAW=${OUT:-$WORK/raw}
mkdir -p "$RAW"
CHILD=""
cleanup() {
  if [[ -n "$CHILD" ]] && kill -0 "$CHILD" 2>/dev/null; then
    kill "$CHILD" 2>/dev/null || true
    wait "$CHILD" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ "$ENGINE_BENCH" == build/engine_bench ]]; then
  make -j2 build/engine_bench >/dev/null
fi
VERSION_OF() { "$ENGINE_BENCH" --engine="$1" --num=1 --benchmarks=fillseq --db="$WORK/probe" | head -1 | cut -d' ' -f1-2; }
for e in $ENGINES; do
  if ! VERSION_OF "$e" >/dev/null 2>&1; then
    echo "run-engine.sh: $ENGINE_BENCH cannot run engine $e (adapter not built?)" >&2
    exit 1
  fi
done

# run NAME ENGINE FLAGS...: one engine_bench, output to $RAW/NAME.ENGINE.REP
run() {
  local name=$1 engine=$2 rep=$3
  shift 3
  local out="$RAW/$name.$engine.$rep"
  rm -rf "$WORK/db"
  timeout "$STEP_TIMEOUT" "$ENGINE_BENCH" --engine="$engine" --db="$WORK/db" "$@" >"$out" 2>&1 &
  CHILD=$!
  if ! wait "$CHILD"; then
    echo "run-engine.sh: $engine $name failed (see below)" >&2
    cat "$out" >&2
    exit 1
  fi
  CHILD=""
  rm -rf "$WORK/db"
}

echo "machine: $(nproc) vCPU $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'); $(. /etc/os-release && echo "$PRETTY_NAME"); kernel $(uname -r)"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "engine_bench: $ENGINE_BENCH; REPS=$REPS NUM=$NUM SYNC_NUM=$SYNC_NUM; engines: $ENGINES"
for e in $ENGINES; do echo "  $(VERSION_OF "$e")"; done
start=$(date +%s)
for rep in $(seq 1 "$REPS"); do
  for e in $ENGINES; do
    run main "$e" "$rep" --num="$NUM" --benchmarks=fillseq,fillrandom,overwrite,readrandom,readmissing,readseq
    run sync1 "$e" "$rep" --num="$NUM" --sync_num="$SYNC_NUM" --benchmarks=fillsync --threads=1
    run sync16 "$e" "$rep" --num="$NUM" --sync_num="$SYNC_NUM" --benchmarks=fillsync --threads=16
    run x10 "$e" "$rep" --num="$NUM" --data_to_cache=10 --benchmarks=fillrandom,readrandom,readmissing,readseq
  done
  echo "repetition $rep of $REPS done after $(( $(date +%s) - start )) s (load $(cut -d' ' -f1 /proc/loadavg))" >&2
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg); $(( $(date +%s) - start )) s"
echo

python3 - "$RAW" "$REPS" $ENGINES <<'PY'
import re, statistics, sys
raw, reps, engines = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
rows = [("main", b, b) for b in ["fillseq", "fillrandom", "overwrite", "readrandom", "readmissing", "readseq"]]
rows += [("sync1", "fillsync", "fillsync, 1 thread"), ("sync16", "fillsync", "fillsync, 16 threads")]
rows += [("x10", b, b + ", data 10x cache") for b in ["fillrandom", "readrandom", "readmissing", "readseq"]]

def value(run, engine, rep, bench):
    try:
        text = open(f"{raw}/{run}.{engine}.{rep}").read()
    except OSError:
        return None
    m = re.search(r"^%s\s*:\s*([\d.]+) micros/op" % bench, text, re.M)
    return float(m.group(1)) if m else None

def cell(vals):
    if not vals:
        return "-"
    fmt = "%.3f" if max(vals) < 10 else "%.1f"
    return (fmt + " [" + fmt + "-" + fmt + "]") % (statistics.median(vals), min(vals), max(vals))

medians = {}
header = "| benchmark (µs/op) | " + " | ".join(engines) + " |"
if "kvring" in engines and "leveldb" in engines:
    header += " LevelDB/kvring |"
print(header)
print("|---" * (header.count("|") - 1) + "|")
for run, bench, label in rows:
    line = f"| {label} |"
    for e in engines:
        vals = [v for v in (value(run, e, r, bench) for r in range(1, reps + 1)) if v is not None]
        medians[(label, e)] = statistics.median(vals) if vals else None
        line += f" {cell(vals)} |"
    if "kvring" in engines and "leveldb" in engines:
        k, l = medians[(label, "kvring")], medians[(label, "leveldb")]
        line += f" {l / k:.2f} |" if k and l else " - |"
    print(line)
print()
for e in engines:
    one, sixteen = medians.get(("fillsync, 1 thread", e)), medians.get(("fillsync, 16 threads", e))
    if one and sixteen:
        print(f"group commit, {e}: fillsync 16 threads is {one / sixteen:.1f}x the throughput of 1 thread")
PY
