// lsm/lookup_key.h — the key a point read searches for: a user key and a snapshot
// sequence, encoded once (on the stack for short keys) in the two forms the read
// path needs: the memtable's length-prefixed entry key and the internal key.
//   memtable_key := internal_key_length:varint32 internal_key
// Thread safety: a value; needs external synchronization.
#pragma once

#include <cstring>
#include <memory>
#include <string_view>

#include "base/coding.h"
#include "lsm/dbformat.h"

namespace kvring::lsm {

class LookupKey {
 public:
  LookupKey(std::string_view user_key, SequenceNumber sequence) {
    const size_t needed = user_key.size() + kInternalKeyTrailerBytes + base::kMaxVarint32Bytes;
    char* dst = needed <= sizeof(space_) ? space_ : (heap_ = std::make_unique<char[]>(needed)).get();
    start_ = dst;
    dst = base::EncodeVarint32(dst, static_cast<uint32_t>(user_key.size() + kInternalKeyTrailerBytes));
    key_start_ = dst;
    if (!user_key.empty()) std::memcpy(dst, user_key.data(), user_key.size());  // data() may be null
    dst += user_key.size();
    base::EncodeFixed64(dst, PackSequenceAndKind(sequence, kValueKindForSeek));
    end_ = dst + kInternalKeyTrailerBytes;
  }
  LookupKey(const LookupKey&) = delete;
  LookupKey& operator=(const LookupKey&) = delete;

  std::string_view memtable_key() const { return {start_, static_cast<size_t>(end_ - start_)}; }
  std::string_view internal_key() const { return {key_start_, static_cast<size_t>(end_ - key_start_)}; }
  std::string_view user_key() const {
    return {key_start_, static_cast<size_t>(end_ - key_start_) - kInternalKeyTrailerBytes};
  }

 private:
  const char* start_;
  const char* key_start_;
  const char* end_;
  std::unique_ptr<char[]> heap_;
  char space_[200];  // keys up to ~185 bytes need no allocation
};

}  // namespace kvring::lsm
