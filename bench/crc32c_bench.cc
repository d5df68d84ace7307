// bench/crc32c_bench.cc — CRC32C over WAL-record and block-sized buffers, with the
// SSE4.2 instruction (when the CPU has it) and the portable slicing-by-8 table.
//   make -j2 build/micro_bench && build/micro_bench --benchmark_filter='BM_Crc32c'
#include <benchmark/benchmark.h>

#include <string>

#include "base/crc32c.h"

namespace kvring::base {
namespace {

void BM_Crc32c(benchmark::State& state) {
  const std::string data(static_cast<size_t>(state.range(0)), 'x');
  uint32_t crc = 0;
  for (auto _ : state) {
    crc = crc32c::Extend(crc, data.data(), data.size());
    benchmark::DoNotOptimize(crc);
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
  state.SetLabel(crc32c::HardwareAccelerated() ? "sse4.2" : "portable");
}
BENCHMARK(BM_Crc32c)->Arg(64)->Arg(4096)->Arg(65536);

void BM_Crc32cPortable(benchmark::State& state) {
  const std::string data(static_cast<size_t>(state.range(0)), 'x');
  uint32_t crc = 0;
  for (auto _ : state) {
    crc = crc32c::ExtendPortable(crc, data.data(), data.size());
    benchmark::DoNotOptimize(crc);
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Crc32cPortable)->Arg(64)->Arg(4096)->Arg(65536);

}  // namespace
}  // namespace kvring::base
