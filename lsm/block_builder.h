// lsm/block_builder.h — builds one SSTable block (data or index): entries with
// prefix-compressed keys and a restart point every `restart_interval` entries.
//
//   block   := entry* restart:fixed32* num_restarts:fixed32
//   entry   := shared:varint32 unshared:varint32 value_len:varint32
//              key_suffix[unshared] value[value_len]
//
// At a restart point shared == 0, so a reader can binary-search the restart
// array (docs/formats/sstable.md).
// Thread safety: needs external synchronization.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kvring::lsm {

class BlockBuilder {
 public:
  // REQUIRES: restart_interval >= 1.
  explicit BlockBuilder(int restart_interval);
  BlockBuilder(const BlockBuilder&) = delete;
  BlockBuilder& operator=(const BlockBuilder&) = delete;

  // REQUIRES: key sorts after every key added since the last Reset (the caller
  // keeps the order; the builder only prefix-compresses); Finish not called yet.
  void Add(std::string_view key, std::string_view value);
  // Appends the restart array and returns the whole block, valid until Reset.
  std::string_view Finish();
  // Starts a new, empty block (keeps the buffer's capacity).
  void Reset();

  // Size of the block Finish would return now.
  size_t CurrentSizeEstimate() const;
  bool empty() const { return entries_ == 0; }
  int entries() const { return entries_; }
  std::string_view last_key() const { return last_key_; }

 private:
  const int restart_interval_;
  std::string buffer_;
  std::vector<uint32_t> restarts_;
  int counter_ = 0;  // entries since the last restart point
  int entries_ = 0;
  bool finished_ = false;
  std::string last_key_;
};

}  // namespace kvring::lsm
