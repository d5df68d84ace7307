#include "lsm/block_builder.h"

#include <algorithm>
#include <cassert>

#include "base/coding.h"

namespace kvring::lsm {

BlockBuilder::BlockBuilder(int restart_interval) : restart_interval_(std::max(restart_interval, 1)) {
  restarts_.push_back(0);
}

void BlockBuilder::Reset() {
  buffer_.clear();
  restarts_.clear();
  restarts_.push_back(0);
  counter_ = 0;
  entries_ = 0;
  finished_ = false;
  last_key_.clear();
}

size_t BlockBuilder::CurrentSizeEstimate() const {
  return buffer_.size() + restarts_.size() * sizeof(uint32_t) + sizeof(uint32_t);
}

void BlockBuilder::Add(std::string_view key, std::string_view value) {
  assert(!finished_);
  size_t shared = 0;
  if (counter_ < restart_interval_) {
    const size_t limit = std::min(last_key_.size(), key.size());
    while (shared < limit && last_key_[shared] == key[shared]) ++shared;
  } else {
    restarts_.push_back(static_cast<uint32_t>(buffer_.size()));
    counter_ = 0;
  }
  const size_t unshared = key.size() - shared;
  char header[3 * base::kMaxVarint32Bytes];
  char* p = base::EncodeVarint32(header, static_cast<uint32_t>(shared));
  p = base::EncodeVarint32(p, static_cast<uint32_t>(unshared));
  p = base::EncodeVarint32(p, static_cast<uint32_t>(value.size()));
  buffer_.append(header, static_cast<size_t>(p - header));
  buffer_.append(key.data() + shared, unshared);
  buffer_.append(value.data(), value.size());
  last_key_.resize(shared);
  last_key_.append(key.data() + shared, unshared);
  ++counter_;
  ++entries_;
}

std::string_view BlockBuilder::Finish() {
  if (!finished_) {
    for (uint32_t r : restarts_) base::PutFixed32(&buffer_, r);
    base::PutFixed32(&buffer_, static_cast<uint32_t>(restarts_.size()));
    finished_ = true;
  }
  return buffer_;
}

}  // namespace kvring::lsm
