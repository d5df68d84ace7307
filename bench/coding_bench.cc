// bench/coding_bench.cc — varint and fixed-width coding, used by every block
// entry, WAL record and wire message.
//   make -j2 build/micro_bench && build/micro_bench --benchmark_filter='BM_(Varint|Fixed)'
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "base/coding.h"
#include "base/random.h"

namespace kvring::base {
namespace {

// Values spread over 1..5-byte encodings (arg 0) or only one-byte ones (arg 1,
// the common case of block entry headers).
std::vector<uint32_t> Values(bool small) {
  Random rnd(1);
  std::vector<uint32_t> v(4096);
  for (auto& x : v) x = small ? static_cast<uint32_t>(rnd.Uniform(128)) : rnd.Next32() >> rnd.Uniform(32);
  return v;
}

void BM_VarintEncode32(benchmark::State& state) {
  const auto values = Values(state.range(0) == 1);
  std::string buf;
  buf.reserve(values.size() * kMaxVarint32Bytes);
  for (auto _ : state) {
    buf.clear();
    for (uint32_t v : values) PutVarint32(&buf, v);
    benchmark::DoNotOptimize(buf.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(values.size()));
}
BENCHMARK(BM_VarintEncode32)->Arg(0)->Arg(1);

void BM_VarintDecode32(benchmark::State& state) {
  const auto values = Values(state.range(0) == 1);
  std::string buf;
  for (uint32_t v : values) PutVarint32(&buf, v);
  for (auto _ : state) {
    const char* p = buf.data();
    const char* limit = p + buf.size();
    uint32_t sum = 0, v = 0;
    while (p < limit) {
      p = GetVarint32Ptr(p, limit, &v);
      sum += v;
    }
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(values.size()));
}
BENCHMARK(BM_VarintDecode32)->Arg(0)->Arg(1);

void BM_VarintDecode64(benchmark::State& state) {
  Random rnd(2);
  std::string buf;
  for (int i = 0; i < 4096; ++i) PutVarint64(&buf, rnd.Next64() >> rnd.Uniform(64));
  for (auto _ : state) {
    std::string_view in = buf;
    uint64_t sum = 0, v = 0;
    while (GetVarint64(&in, &v)) sum += v;
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations() * 4096);
}
BENCHMARK(BM_VarintDecode64);

void BM_FixedDecode64(benchmark::State& state) {
  std::string buf;
  for (uint64_t i = 0; i < 4096; ++i) PutFixed64(&buf, i * 0x9e3779b97f4a7c15ull);
  for (auto _ : state) {
    uint64_t sum = 0;
    for (size_t off = 0; off < buf.size(); off += 8) sum += DecodeFixed64(buf.data() + off);
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations() * 4096);
}
BENCHMARK(BM_FixedDecode64);

}  // namespace
}  // namespace kvring::base
