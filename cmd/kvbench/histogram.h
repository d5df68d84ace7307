// cmd/kvbench/histogram.h — a latency histogram in the HdrHistogram style:
// log-linear buckets with bounded relative error, constant memory, mergeable.
//
// Values are unsigned integers (kvbench records nanoseconds). Values below
// 2^(kSubBucketBits+1) = 256 have a bucket each (exact); above, every power-of-two
// range [2^e, 2^(e+1)) is split into 128 equal sub-buckets, so a bucket is at most
// 1/128 of its lower bound wide. Percentile() answers the bucket's midpoint
// (clamped to the recorded min/max), so its relative error is at most 1/256
// (0.4%), within the 1% kvbench promises. Values at or above kMaxTrackable
// (2^40 ns, about 18 minutes) are counted in the last bucket; max() stays exact.
// Memory: kBucketCount counters (about 34 KiB) whatever the number of values.
// Thread safety: needs external synchronization (one per worker thread; merge
// after the threads are done, or copy under a lock).
#pragma once

#include <cstdint>
#include <vector>

namespace kvring::cmd::kvbench {

class Histogram {
 public:
  static constexpr int kSubBucketBits = 7;  // 128 sub-buckets per power of two
  static constexpr int kMaxExponent = 40;   // values up to 2^40 are bucketed
  static constexpr uint64_t kMaxTrackable = uint64_t{1} << kMaxExponent;
  static constexpr int kBucketCount =
      (2 << kSubBucketBits) + (kMaxExponent - kSubBucketBits - 1) * (1 << kSubBucketBits);

  Histogram();

  void Record(uint64_t value) {
    ++counts_[BucketIndex(value)];
    ++count_;
    sum_ += value;
    if (value < min_) min_ = value;
    if (value > max_) max_ = value;
  }
  // Adds every value recorded in `other`.
  void Merge(const Histogram& other);
  void Clear();

  uint64_t count() const { return count_; }
  uint64_t min() const { return count_ == 0 ? 0 : min_; }
  uint64_t max() const { return max_; }
  double Mean() const { return count_ == 0 ? 0.0 : static_cast<double>(sum_) / static_cast<double>(count_); }
  // The value at quantile q in [0, 1] (0.99 = p99): the smallest recorded value v
  // such that at least q of the values are <= v, up to the bucket's precision.
  // 0 when empty; Percentile(1.0) is max() exactly.
  uint64_t Percentile(double q) const;

  // Bucket layout, exposed for tests.
  static int BucketIndex(uint64_t value);
  static uint64_t BucketLow(int index);   // smallest value in the bucket
  static uint64_t BucketHigh(int index);  // largest value in the bucket

 private:
  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
};

}  // namespace kvring::cmd::kvbench
