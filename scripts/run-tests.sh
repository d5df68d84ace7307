#!/usr/bin/env bash
# run-tests.sh BUILD TEST_BINARY... — runs each GoogleTest binary, prints a
# one-line verdict per suite and fails if any suite fails. TEST_FILTER narrows
# every suite to a gtest filter.
set -u
build=$1; shift
failed=()
for t in "$@"; do
  name=$(basename "$t")
  start=$(date +%s)
  log="$build/test/$name.log"
  if "$t" --gtest_brief=1 ${TEST_FILTER:+--gtest_filter="$TEST_FILTER"} >"$log" 2>&1; then
    echo "PASS $name ($(( $(date +%s) - start ))s)"
  else
    echo "FAIL $name ($(( $(date +%s) - start ))s), log: $log"
    tail -n 60 "$log"
    failed+=("$name")
  fi
done
if [ ${#failed[@]} -ne 0 ]; then
  echo "failed suites: ${failed[*]}"
  exit 1
fi
echo "all suites passed"
