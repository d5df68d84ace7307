#include "cmd/kvbench/histogram.h"

#include <algorithm>
#include <cmath>

namespace kvring::cmd::kvbench {

namespace {
constexpr uint64_t kLinearLimit = uint64_t{2} << Histogram::kSubBucketBits;  // 256: exact below
constexpr int kSubBuckets = 1 << Histogram::kSubBucketBits;
}  // namespace

Histogram::Histogram() : counts_(kBucketCount, 0) {}

int Histogram::BucketIndex(uint64_t value) {
  if (value < kLinearLimit) return static_cast<int>(value);
  if (value >= kMaxTrackable) return kBucketCount - 1;
  const int exponent = 63 - __builtin_clzll(value);  // >= kSubBucketBits + 1
  const int shift = exponent - kSubBucketBits;
  const int sub = static_cast<int>(value >> shift);  // in [128, 256)
  return (shift - 1) * kSubBuckets + sub + kSubBuckets;
}

uint64_t Histogram::BucketLow(int index) {
  if (index < static_cast<int>(kLinearLimit)) return static_cast<uint64_t>(index);
  const int shift = (index - kSubBuckets) / kSubBuckets;  // >= 1
  const int sub = (index - kSubBuckets) % kSubBuckets + kSubBuckets;
  return static_cast<uint64_t>(sub) << shift;
}

uint64_t Histogram::BucketHigh(int index) {
  if (index < static_cast<int>(kLinearLimit)) return static_cast<uint64_t>(index);
  const int shift = (index - kSubBuckets) / kSubBuckets;
  return BucketLow(index) + (uint64_t{1} << shift) - 1;
}

void Histogram::Merge(const Histogram& other) {
  for (int i = 0; i < kBucketCount; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

void Histogram::Clear() {
  std::fill(counts_.begin(), counts_.end(), 0);
  count_ = 0;
  sum_ = 0;
  min_ = UINT64_MAX;
  max_ = 0;
}

uint64_t Histogram::Percentile(double q) const {
  if (count_ == 0) return 0;
  if (q >= 1.0) return max_;
  q = std::max(q, 0.0);
  // The rank (1-based) of the value at quantile q.
  uint64_t rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
  rank = std::clamp<uint64_t>(rank, 1, count_);
  uint64_t seen = 0;
  for (int i = 0; i < kBucketCount; ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      const uint64_t low = BucketLow(i), high = BucketHigh(i);
      return std::clamp(low + (high - low) / 2, min(), max_);
    }
  }
  return max_;
}

}  // namespace kvring::cmd::kvbench
