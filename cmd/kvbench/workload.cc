#include "cmd/kvbench/workload.h"

#include <cstring>

namespace kvring::cmd::kvbench {

const char* OpName(OpType op) {
  switch (op) {
    case OpType::kGet: return "get";
    case OpType::kPut: return "put";
    case OpType::kRmw: return "rmw";
  }
  return "?";
}

Workload::Workload(const BenchOptions& o)
    : read_ratio_(o.read_ratio), rmw_(o.rmw), value_min_(o.value_min), value_max_(o.value_max),
      key_template_(o.key_prefix), prefix_size_(o.key_prefix.size()) {
  if (key_template_.size() < static_cast<size_t>(o.key_size)) key_template_.resize(o.key_size, '0');
}

void Workload::FormatKey(uint64_t index, char* dst) const {
  const size_t n = key_template_.size();
  std::memcpy(dst, key_template_.data(), n);
  for (size_t i = n; i > prefix_size_ && index != 0; --i) {
    dst[i - 1] = static_cast<char>('0' + index % 10);
    index /= 10;
  }
}

std::string Workload::Key(uint64_t index) const {
  std::string key(key_size(), '\0');
  FormatKey(index, key.data());
  return key;
}

}  // namespace kvring::cmd::kvbench
