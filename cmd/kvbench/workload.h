// cmd/kvbench/workload.h — the operation mix, key names and value sizes of a run.
// Keys are --key-prefix followed by the key index, zero-padded to --key-size bytes
// ("k000000000012345"), written straight into the send buffer.
// Thread safety: immutable after construction; share it between threads, each
// with its own Random.
#pragma once

#include <cstdint>
#include <string>

#include "base/random.h"
#include "cmd/kvbench/options.h"

namespace kvring::cmd::kvbench {

enum class OpType : uint8_t { kGet = 0, kPut = 1, kRmw = 2 };
constexpr int kOpTypes = 3;
const char* OpName(OpType op);  // "get", "put", "rmw"

class Workload {
 public:
  // REQUIRES: options validated by ParseOptions (the key fits in key_size).
  explicit Workload(const BenchOptions& options);

  OpType NextOp(base::Random* rng) const {
    if (rng->NextDouble() < read_ratio_) return OpType::kGet;
    return rmw_ ? OpType::kRmw : OpType::kPut;
  }
  uint64_t NextValueSize(base::Random* rng) const {
    return value_min_ == value_max_ ? value_min_ : rng->Range(value_min_, value_max_);
  }
  uint64_t value_max() const { return value_max_; }
  size_t key_size() const { return key_template_.size(); }
  // Writes the key of `index` into dst[0, key_size()).
  void FormatKey(uint64_t index, char* dst) const;
  std::string Key(uint64_t index) const;

 private:
  double read_ratio_;
  bool rmw_;
  uint64_t value_min_, value_max_;
  std::string key_template_;  // the prefix then '0' padding
  size_t prefix_size_;
};

}  // namespace kvring::cmd::kvbench
