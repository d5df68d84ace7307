#!/usr/bin/env bash
# run-fuzz.sh BUILD SECONDS TARGET... — runs each libFuzzer target of
# BUILD/fuzzers/ for SECONDS seconds, one after the other (one process: the
# machine is shared), over its checked-in seeds (test/fuzz/corpus/TARGET, read
# only) and its working corpus (BUILD/corpus/TARGET, where new inputs go). Prints
# one line per target with its executions (libFuzzer's
# stat::number_of_executed_units) and fails on the first crash, leak, timeout or
# out-of-memory, naming the input and how to rerun it (docs/testing.md).
set -u
build=$1; seconds=$2; shift 2
mkdir -p "$build/logs" "$build/artifacts"
total=0
printf '%-18s %14s %8s %s\n' target executions seconds result
for t in "$@"; do
  bin="$build/fuzzers/$t"
  log="$build/logs/$t.log"
  seeds="test/fuzz/corpus/$t"
  work="$build/corpus/$t"
  mkdir -p "$work"
  [ -d "$seeds" ] || seeds=""
  start=$(date +%s)
  "$bin" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=512 \
    -artifact_prefix="$build/artifacts/$t-" "$work" $seeds >"$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  execs=${execs:-0}
  total=$((total + execs))
  if [ $rc -eq 0 ]; then
    printf '%-18s %14s %8s %s\n' "$t" "$execs" "$(( $(date +%s) - start ))" ok
  else
    printf '%-18s %14s %8s %s\n' "$t" "$execs" "$(( $(date +%s) - start ))" "FAILED (exit $rc), log: $log"
    grep -E 'ERROR|FUZZ_CHECK|SUMMARY|Test unit written|^artifact' "$log" | head -n 20
    artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
    [ -n "$artifact" ] && echo "reproduce: $bin $artifact"
    exit 1
  fi
done
echo "all $# targets clean: $total executions in total, $seconds s each"
