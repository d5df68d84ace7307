// lsm/block.h — reads one SSTable block built by BlockBuilder (format in
// lsm/block_builder.h and docs/formats/sstable.md). Keys are internal keys,
// ordered by InternalKeyCompare (lsm/dbformat.h).
//
// A Block owns its bytes, or views them in place in a mapped table file (when
// its BlockContents has no heap; the Table keeps the mapping alive). BlockCursor is the allocation-free reader used on the
// point-lookup path; Block::NewIterator wraps one in the Iterator interface.
// Malformed bytes (bad restart array, entries running past the end, keys shorter
// than an internal-key trailer) make a cursor stop with corrupt() set; nothing
// reads outside the block.
// Thread safety: a Block is immutable and may be shared by many threads; each
// BlockCursor / iterator is used by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/coding.h"
#include "lsm/dbformat.h"
#include "lsm/iterator.h"
#include "lsm/table_format.h"

namespace kvring::lsm {

class Block {
 public:
  explicit Block(BlockContents contents);
  Block(const Block&) = delete;
  Block& operator=(const Block&) = delete;

  size_t size() const { return data_.size(); }
  // Heap bytes held (what the block cache charges): 0 for a block in place.
  size_t owned_bytes() const { return heap_ != nullptr ? data_.size() : 0; }
  // False when the restart array is malformed; cursors over it report corrupt().
  bool well_formed() const { return well_formed_; }

  // An iterator over the block. Corruption messages name `file_label` and the
  // block's `offset` when given. *file_label must outlive the iterator.
  std::unique_ptr<Iterator> NewIterator(const std::string* file_label = nullptr, uint64_t offset = 0) const;

 private:
  friend class BlockCursor;
  std::unique_ptr<char[]> heap_;
  std::string_view data_;
  uint32_t restarts_offset_ = 0;  // where the restart array starts
  uint32_t num_restarts_ = 0;
  bool well_formed_ = false;
};

// A key buffer that lives on the stack for ordinary keys (no allocation) and
// moves to the heap only for long ones.
class KeyBuffer {
 public:
  KeyBuffer() = default;
  KeyBuffer(const KeyBuffer&) = delete;
  KeyBuffer& operator=(const KeyBuffer&) = delete;
  // Keeps the first n bytes (REQUIRES: n <= size()) and appends [p, p+len).
  void Assign(size_t n, const char* p, size_t len);
  std::string_view view() const { return std::string_view(data_, size_); }
  size_t size() const { return size_; }

 private:
  static constexpr size_t kInlineBytes = 112;
  char inline_[kInlineBytes];
  std::unique_ptr<char[]> heap_;
  char* data_ = inline_;
  size_t size_ = 0;
  size_t capacity_ = kInlineBytes;
};

// Walks the entries of a block. Not Valid() at the end or after corruption.
class BlockCursor {
 public:
  // *block must outlive the cursor.
  explicit BlockCursor(const Block* block);
  BlockCursor(const BlockCursor&) = delete;
  BlockCursor& operator=(const BlockCursor&) = delete;

  bool Valid() const { return valid_; }
  void SeekToFirst();
  // First entry with key >= target (InternalKeyCompare). REQUIRES: target.size() >= 8.
  void Seek(std::string_view target);
  // REQUIRES: Valid().
  void Next();
  std::string_view key() const { return key_.view(); }
  std::string_view value() const { return value_; }
  // True once malformed bytes were met; corrupt_offset() is where (within the block).
  bool corrupt() const { return corrupt_; }
  uint32_t corrupt_offset() const { return corrupt_offset_; }

 private:
  // Decodes the entry at next_ into key_/value_; false at the end or on corruption.
  bool ParseNextEntry();
  // The whole key stored at restart point i (shared must be 0 there).
  bool RestartKey(uint32_t i, std::string_view* key);
  void SeekToRestart(uint32_t i);
  void MarkCorrupt(uint32_t offset);

  const char* const data_;
  const uint32_t restarts_offset_;
  const uint32_t num_restarts_;
  uint32_t next_ = 0;  // offset of the entry after the current one
  KeyBuffer key_;
  std::string_view value_;
  bool valid_ = false;
  bool corrupt_ = false;
  uint32_t corrupt_offset_ = 0;
};

}  // namespace kvring::lsm
