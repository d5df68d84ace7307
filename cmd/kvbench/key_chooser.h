// cmd/kvbench/key_chooser.h — which key the next request touches: key indexes in
// [0, keys), drawn from a distribution.
//   uniform  every key equally likely.
//   zipfian  YCSB-style scrambled zipfian: exact zipfian ranks (theta 0.99 by
//            default) mapped to keys by a fixed bijection of [0, keys), so the hot
//            keys are spread over the key space rather than clustered at its start.
//            (YCSB hashes ranks of a 10^10-item space modulo the key count, which
//            flattens the head a little; a bijection keeps the zipfian shape exact.)
//   latest   favours the most recently written keys (YCSB's "latest", workload d):
//            writes advance a shared cursor through the key space (the next write
//            goes to the key after the last one written, wrapping around), reads
//            pick cursor - zipfian rank.
// Thread safety: thread-safe; each caller passes its own Random.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>

#include "base/random.h"
#include "base/status.h"
#include "cmd/kvbench/zipfian.h"

namespace kvring::cmd::kvbench {

enum class Distribution { kUniform, kZipfian, kLatest };

// "uniform", "zipfian", "latest".
bool ParseDistribution(std::string_view text, Distribution* out);
const char* DistributionName(Distribution d);

class KeyChooser {
 public:
  virtual ~KeyChooser() = default;
  virtual uint64_t NextRead(base::Random* rng) = 0;
  virtual uint64_t NextWrite(base::Random* rng) = 0;
  uint64_t keys() const { return keys_; }

  // REQUIRES: keys >= 1; for zipfian and latest theta > 0.
  static std::unique_ptr<KeyChooser> Make(Distribution d, uint64_t keys, double theta);

 protected:
  explicit KeyChooser(uint64_t keys) : keys_(keys) {}
  const uint64_t keys_;
};

// A fixed bijection of [0, n): rank -> (rank * multiplier + offset) mod n with the
// multiplier coprime to n. Exposed for the tests.
class KeyScrambler {
 public:
  explicit KeyScrambler(uint64_t n);
  uint64_t Map(uint64_t rank) const {
    return static_cast<uint64_t>((static_cast<__uint128_t>(rank) * multiplier_ + offset_) % n_);
  }

 private:
  uint64_t n_;
  uint64_t multiplier_;
  uint64_t offset_;
};

}  // namespace kvring::cmd::kvbench
