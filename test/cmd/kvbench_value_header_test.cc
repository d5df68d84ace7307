#include "cmd/kvbench/value_header.h"

#include <gtest/gtest.h>

#include <string>

#include "cmd/kvbench/options.h"
#include "cmd/kvbench/workload.h"

namespace kvring::cmd::kvbench {
namespace {

TEST(KvbenchValueHeader, RoundTripsInsideAPaddedValue) {
  std::string value(100, 'x');
  ValueHeader in{0xdeadbeef, 123456789012ull, 1'700'000'000'123'456ull};
  EncodeValueHeader(value.data(), in);
  ValueHeader out;
  ASSERT_TRUE(DecodeValueHeader(value, &out));
  EXPECT_EQ(out.run_id, in.run_id);
  EXPECT_EQ(out.version, in.version);
  EXPECT_EQ(out.issued_us, in.issued_us);
  EXPECT_EQ(value.substr(kValueHeaderBytes), std::string(100 - kValueHeaderBytes, 'x'));
}

TEST(KvbenchValueHeader, GoldenBytes) {
  std::string value(kValueHeaderBytes, '\0');
  EncodeValueHeader(value.data(), ValueHeader{0x04030201, 0x0807060504030201ull, 0x100f0e0d0c0b0a09ull});
  const std::string expected("KVB1\x01\x02\x03\x04\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10",
                             kValueHeaderBytes);
  EXPECT_EQ(value, expected);
}

TEST(KvbenchValueHeader, RejectsShortAndForeignValues) {
  std::string value(kValueHeaderBytes, '\0');
  EncodeValueHeader(value.data(), ValueHeader{1, 2, 3});
  ValueHeader out;
  EXPECT_FALSE(DecodeValueHeader(value.substr(0, kValueHeaderBytes - 1), &out));
  EXPECT_FALSE(DecodeValueHeader("hello world, this is not a kvbench value", &out));
  value[0] = 'k';
  EXPECT_FALSE(DecodeValueHeader(value, &out));
}

TEST(KvbenchWorkload, KeysArePrefixedZeroPaddedIndexes) {
  BenchOptions o;
  o.key_size = 16;
  o.key_prefix = "k";
  Workload w(o);
  EXPECT_EQ(w.Key(0), "k000000000000000");
  EXPECT_EQ(w.Key(12345), "k000000000012345");
  o.key_prefix = "bench:";
  o.key_size = 10;
  Workload w2(o);
  EXPECT_EQ(w2.Key(99999), "bench:9999");
}

TEST(KvbenchWorkload, OperationMixFollowsTheReadRatio) {
  BenchOptions o;
  o.read_ratio = 0.9;
  Workload w(o);
  base::Random rng(3);
  int reads = 0;
  for (int i = 0; i < 100000; ++i) reads += w.NextOp(&rng) == OpType::kGet;
  EXPECT_NEAR(reads, 90000, 600);
  o.read_ratio = 0.5;
  o.rmw = true;
  Workload f(o);
  int rmw = 0;
  for (int i = 0; i < 10000; ++i) rmw += f.NextOp(&rng) == OpType::kRmw;
  EXPECT_NEAR(rmw, 5000, 300);
}

TEST(KvbenchWorkload, ValueSizesStayInTheRangeAndCoverIt) {
  BenchOptions o;
  o.value_min = 100;
  o.value_max = 200;
  Workload w(o);
  base::Random rng(5);
  uint64_t lo = UINT64_MAX, hi = 0;
  for (int i = 0; i < 10000; ++i) {
    const uint64_t s = w.NextValueSize(&rng);
    lo = std::min(lo, s);
    hi = std::max(hi, s);
  }
  EXPECT_EQ(lo, 100u);
  EXPECT_EQ(hi, 200u);
}

}  // namespace
}  // namespace kvring::cmd::kvbench
