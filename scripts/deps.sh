#!/usr/bin/env bash
# deps.sh [clang] — makes sure the Debian packages kvring builds with are installed.
# As root it installs what is missing with apt-get; otherwise it prints the one
# line to run and fails. Cheap when everything is present (no apt call at all).
# With `clang` (make fuzz, make check) also clang and libFuzzer's runtime.
set -u
need=()
if [ "${1:-}" = clang ]; then
  command -v clang++ >/dev/null 2>&1 || need+=(clang)
  # libFuzzer (-fsanitize=fuzzer) lives in compiler-rt: Debian 12 ships it in
  # libclang-rt-14-dev, which clang only recommends.
  ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1 || need+=(libclang-rt-14-dev)
fi
command -v g++ >/dev/null 2>&1 || need+=(g++)
command -v make >/dev/null 2>&1 || need+=(make)
[ -f /usr/include/gtest/gtest.h ] || need+=(libgtest-dev)
[ -f /usr/include/benchmark/benchmark.h ] || need+=(libbenchmark-dev)
[ -f /usr/include/lz4.h ] || need+=(liblz4-dev)
[ -f /usr/include/openssl/hmac.h ] || need+=(libssl-dev)
[ -f /usr/include/jemalloc/jemalloc.h ] || need+=(libjemalloc-dev)
# Optional: the network-partition cluster test cuts links with iptables inside a
# private network namespace; without it (or without root) that test skips.
if [ "$(id -u)" = 0 ] && ! command -v iptables >/dev/null 2>&1; then need+=(iptables); fi
# Optional: KvbenchEndToEnd.RunAgainstRealRedisServer runs kvbench against a
# redis-server of its own (found on PATH, started on a free port); without it (or
# without root) that test skips.
if [ "$(id -u)" = 0 ] && ! command -v redis-server >/dev/null 2>&1; then need+=(redis-server); fi
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ]; then
  echo "deps.sh: installing ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null 2>&1 || true
  apt-get install -y -q --no-install-recommends "${need[@]}" >&2 || {
    echo "deps.sh: apt-get install ${need[*]} failed" >&2; exit 1; }
else
  echo "kvring needs: ${need[*]}. Run: sudo apt-get install -y ${need[*]}" >&2
  exit 1
fi
