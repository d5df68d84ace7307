#include "lsm/block.h"

#include <algorithm>
#include <cstring>

#include "base/coding.h"
#include "lsm/dbformat.h"

namespace kvring::lsm {

Block::Block(BlockContents contents) : heap_(std::move(contents.heap)), data_(contents.data) {
  if (data_.size() < sizeof(uint32_t)) return;
  const size_t max_restarts = (data_.size() - sizeof(uint32_t)) / sizeof(uint32_t);
  const uint32_t n = base::DecodeFixed32(data_.data() + data_.size() - sizeof(uint32_t));
  if (n == 0 || n > max_restarts || data_.size() > UINT32_MAX) return;
  num_restarts_ = n;
  restarts_offset_ = static_cast<uint32_t>(data_.size() - (1 + static_cast<size_t>(n)) * sizeof(uint32_t));
  well_formed_ = true;
}

void KeyBuffer::Assign(size_t n, const char* p, size_t len) {
  const size_t need = n + len;
  if (need > capacity_) {
    size_t cap = std::max(need, capacity_ * 2);
    auto bigger = std::make_unique_for_overwrite<char[]>(cap);
    std::memcpy(bigger.get(), data_, n);
    heap_ = std::move(bigger);
    data_ = heap_.get();
    capacity_ = cap;
  }
  if (len > 0) std::memcpy(data_ + n, p, len);
  size_ = need;
}

namespace {

// Decodes an entry header at p. Returns where the key suffix starts, or nullptr
// when the header or the bytes it announces run past limit.
inline const char* DecodeEntryHeader(const char* p, const char* limit, uint32_t* shared, uint32_t* unshared,
                                     uint32_t* value_len) {
  if (limit - p < 3) return nullptr;
  const auto a = static_cast<uint8_t>(p[0]);
  const auto b = static_cast<uint8_t>(p[1]);
  const auto c = static_cast<uint8_t>(p[2]);
  if ((a | b | c) < 128) {  // the common case: three one-byte varints
    *shared = a;
    *unshared = b;
    *value_len = c;
    p += 3;
  } else {
    if ((p = base::GetVarint32Ptr(p, limit, shared)) == nullptr) return nullptr;
    if ((p = base::GetVarint32Ptr(p, limit, unshared)) == nullptr) return nullptr;
    if ((p = base::GetVarint32Ptr(p, limit, value_len)) == nullptr) return nullptr;
  }
  if (static_cast<uint64_t>(limit - p) < static_cast<uint64_t>(*unshared) + *value_len) return nullptr;
  return p;
}

}  // namespace

BlockCursor::BlockCursor(const Block* block)
    : data_(block->data_.data()),
      restarts_offset_(block->well_formed_ ? block->restarts_offset_ : 0),
      num_restarts_(block->well_formed_ ? block->num_restarts_ : 0),
      corrupt_(!block->well_formed_) {}

void BlockCursor::MarkCorrupt(uint32_t offset) {
  valid_ = false;
  if (!corrupt_) corrupt_offset_ = offset;
  corrupt_ = true;
}

bool BlockCursor::ParseNextEntry() {
  if (next_ >= restarts_offset_) {
    valid_ = false;
    return false;
  }
  const char* limit = data_ + restarts_offset_;
  uint32_t shared, unshared, value_len;
  const char* p = DecodeEntryHeader(data_ + next_, limit, &shared, &unshared, &value_len);
  if (p == nullptr || shared > key_.size() || shared + static_cast<size_t>(unshared) < kInternalKeyTrailerBytes) {
    MarkCorrupt(next_);
    return false;
  }
  key_.Assign(shared, p, unshared);
  value_ = std::string_view(p + unshared, value_len);
  next_ = static_cast<uint32_t>(p + unshared + value_len - data_);
  valid_ = true;
  return true;
}

bool BlockCursor::RestartKey(uint32_t i, std::string_view* key) {
  const uint32_t offset = base::DecodeFixed32(data_ + restarts_offset_ + i * sizeof(uint32_t));
  if (offset >= restarts_offset_) {
    MarkCorrupt(restarts_offset_ + i * sizeof(uint32_t));
    return false;
  }
  uint32_t shared, unshared, value_len;
  const char* p = DecodeEntryHeader(data_ + offset, data_ + restarts_offset_, &shared, &unshared, &value_len);
  if (p == nullptr || shared != 0 || unshared < kInternalKeyTrailerBytes) {
    MarkCorrupt(offset);
    return false;
  }
  *key = std::string_view(p, unshared);
  return true;
}

void BlockCursor::SeekToRestart(uint32_t i) {
  const uint32_t offset = base::DecodeFixed32(data_ + restarts_offset_ + i * sizeof(uint32_t));
  key_.Assign(0, nullptr, 0);
  next_ = offset;
}

void BlockCursor::SeekToFirst() {
  valid_ = false;
  if (corrupt_ || restarts_offset_ == 0) return;
  key_.Assign(0, nullptr, 0);
  next_ = 0;
  ParseNextEntry();
}

void BlockCursor::Seek(std::string_view target) {
  valid_ = false;
  if (corrupt_ || restarts_offset_ == 0) return;
  // Binary search for the last restart point whose key is < target.
  uint32_t lo = 0, hi = num_restarts_ - 1;
  while (lo < hi) {
    const uint32_t mid = lo + (hi - lo + 1) / 2;
    std::string_view key;
    if (!RestartKey(mid, &key)) return;
    if (CompareInternalKeys(key, target) < 0) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  SeekToRestart(lo);
  // Linear scan within the restart interval (and past it when needed).
  while (ParseNextEntry()) {
    if (CompareInternalKeys(key_.view(), target) >= 0) return;
  }
}

void BlockCursor::Next() { ParseNextEntry(); }

namespace {

class BlockIterator final : public Iterator {
 public:
  BlockIterator(const Block* block, const std::string* file_label, uint64_t offset)
      : cursor_(block), file_label_(file_label), offset_(offset) {}

  bool Valid() const override { return cursor_.Valid(); }
  void SeekToFirst() override { cursor_.SeekToFirst(); }
  void Seek(std::string_view target) override {
    if (target.size() < kInternalKeyTrailerBytes) {
      cursor_.SeekToFirst();  // a short target sorts before every internal key
      return;
    }
    cursor_.Seek(target);
  }
  void Next() override { cursor_.Next(); }
  std::string_view key() const override { return cursor_.key(); }
  std::string_view value() const override { return cursor_.value(); }
  base::Status status() const override {
    if (!cursor_.corrupt()) return base::Status::OK();
    std::string msg = file_label_ != nullptr ? *file_label_ + ": " : std::string();
    msg += "corrupt block at offset " + std::to_string(offset_) + " (bad entry at block byte " +
           std::to_string(cursor_.corrupt_offset()) + ")";
    return base::Status::Corruption(msg);
  }

 private:
  BlockCursor cursor_;
  const std::string* const file_label_;
  const uint64_t offset_;
};

}  // namespace

std::unique_ptr<Iterator> Block::NewIterator(const std::string* file_label, uint64_t offset) const {
  return std::make_unique<BlockIterator>(this, file_label, offset);
}

}  // namespace kvring::lsm
