// lsm/merkle_index.cc — MerkleIndex: boundaries, leaf lookup, dirty tracking and
// the persisted form (docs/formats/merkle.md).
#include "lsm/merkle_index.h"

#include <algorithm>
#include <cassert>

#include "base/coding.h"
#include "base/crc32c.h"
#include "base/hash.h"

namespace kvring::lsm {

namespace {

constexpr char kMagic[8] = {'K', 'V', 'M', 'E', 'R', 'K', 'L', 'E'};
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderBytes = 8 + 4 + 4 + 8 + 8 + 4;  // magic .. num_splits
constexpr size_t kLeafBytes = 8 + 8 + 1;
constexpr uint8_t kDirtyFlag = 1;

uint64_t GridStep(int leaf_bits) { return leaf_bits == 0 ? 0 : 1ull << (64 - leaf_bits); }

bool OnGrid(uint64_t x, int leaf_bits) {
  return leaf_bits == 0 ? x == 0 : (x & (GridStep(leaf_bits) - 1)) == 0;
}

// Sorted, unique, without grid points (they are boundaries anyway).
std::vector<uint64_t> NormalizeSplits(std::vector<uint64_t> splits, int leaf_bits) {
  std::sort(splits.begin(), splits.end());
  splits.erase(std::unique(splits.begin(), splits.end()), splits.end());
  splits.erase(std::remove_if(splits.begin(), splits.end(), [&](uint64_t x) { return OnGrid(x, leaf_bits); }),
               splits.end());
  return splits;
}

base::Status Bad(const std::string& what) { return base::Status::Corruption("merkle index file: " + what); }

}  // namespace

MerkleIndex::MerkleIndex(int leaf_bits, std::vector<uint64_t> splits)
    : leaf_bits_(std::clamp(leaf_bits, 0, kMaxLeafBits)), splits_(NormalizeSplits(std::move(splits), leaf_bits_)) {
  Build();
}

uint64_t MerkleIndex::KeyPrefix(std::string_view key) {
  if (key.size() >= 8) return base::DecodeBigEndian64(key.data());
  char padded[8] = {0};
  std::copy(key.begin(), key.end(), padded);
  return base::DecodeBigEndian64(padded);
}

uint64_t MerkleIndex::EntryHash(std::string_view key, uint64_t digest) {
  std::string buf;
  buf.reserve(key.size() + 8);
  buf.append(key);
  base::PutFixed64(&buf, digest);
  return base::Hash64(buf);
}

std::string MerkleIndex::PrefixStartKey(uint64_t prefix) {
  std::string key(8, '\0');
  base::EncodeBigEndian64(key.data(), prefix);
  while (!key.empty() && key.back() == '\0') key.pop_back();
  return key;
}

void MerkleIndex::Build() {
  const size_t cells = size_t{1} << leaf_bits_;
  boundaries_.clear();
  boundaries_.reserve(cells + splits_.size());
  cell_start_.assign(cells + 1, 0);
  auto split = splits_.begin();
  for (size_t g = 0; g < cells; g++) {
    cell_start_[g] = static_cast<uint32_t>(boundaries_.size());
    const uint64_t start = static_cast<uint64_t>(g) * GridStep(leaf_bits_);
    boundaries_.push_back(start);
    const uint64_t next = start + GridStep(leaf_bits_);  // 0 after the last cell: 2^64
    while (split != splits_.end() && (next == 0 || *split < next)) boundaries_.push_back(*split++);
  }
  cell_start_[cells] = static_cast<uint32_t>(boundaries_.size());
  marks_.assign(boundaries_.size(), kDirtyBit);
  stored_.assign(boundaries_.size(), Stored());
  dirty_count_ = marks_.size();
  generation_++;
}

size_t MerkleIndex::LeafOf(uint64_t prefix) const {
  const size_t g = leaf_bits_ == 0 ? 0 : static_cast<size_t>(prefix >> (64 - leaf_bits_));
  if (splits_.empty()) return g;  // the write path's common case: no memory touched
  const uint32_t start = cell_start_[g], next = cell_start_[g + 1];
  if (next == start + 1) return start;  // no split point in this cell
  const auto first = boundaries_.begin() + start;
  const auto last = boundaries_.begin() + next;
  // The last boundary <= prefix; the cell's first one is its grid point.
  return static_cast<size_t>(std::upper_bound(first, last, prefix) - boundaries_.begin()) - 1;
}

MerkleIndex::Leaf MerkleIndex::leaf(size_t i) const {
  Leaf leaf;
  leaf.hash = stored_[i].hash;
  leaf.keys = stored_[i].keys;
  leaf.computed_at = stored_[i].computed_at;
  leaf.epoch = marks_[i] & kEpochMask;
  leaf.dirty = (marks_[i] & kDirtyBit) != 0;
  return leaf;
}

void MerkleIndex::SetLeafDirty(size_t i) {
  uint32_t& mark = marks_[i];
  if ((mark & kDirtyBit) == 0) dirty_count_++;
  mark = ((mark + 1) & kEpochMask) | kDirtyBit;
}

void MerkleIndex::MarkDirty(uint64_t prefix) { SetLeafDirty(LeafOf(prefix)); }

void MerkleIndex::MarkRangeDirty(uint64_t first, uint64_t last) {
  for (size_t i = LeafOf(first); i <= LeafOf(last); i++) SetLeafDirty(i);
}

void MerkleIndex::MarkAllDirty() {
  for (size_t i = 0; i < marks_.size(); i++) SetLeafDirty(i);
}

bool MerkleIndex::StoreIfUnchanged(size_t i, uint64_t epoch, uint64_t hash, uint64_t keys, SequenceNumber at) {
  uint32_t& mark = marks_[i];
  if ((mark & kEpochMask) != epoch) return false;
  if ((mark & kDirtyBit) != 0) dirty_count_--;
  mark &= kEpochMask;
  stored_[i] = {hash, keys, at};
  return true;
}

void MerkleIndex::SetSplits(std::vector<uint64_t> splits) {
  const std::vector<uint64_t> old_boundaries = std::move(boundaries_);
  const std::vector<uint32_t> old_marks = std::move(marks_);
  const std::vector<Stored> old_stored = std::move(stored_);
  splits_ = NormalizeSplits(std::move(splits), leaf_bits_);
  Build();
  // Walk both boundary lists: a new leaf [b, e) equal to an old one keeps its state.
  size_t j = 0;
  for (size_t i = 0; i < boundaries_.size(); i++) {
    while (j < old_boundaries.size() && old_boundaries[j] < boundaries_[i]) j++;
    if (j == old_boundaries.size() || old_boundaries[j] != boundaries_[i]) continue;
    const uint64_t old_end = j + 1 < old_boundaries.size() ? old_boundaries[j + 1] : 0;
    if (old_end != LeafEnd(i)) continue;
    marks_[i] = old_marks[j];
    stored_[i] = old_stored[j];
    if ((marks_[i] & kDirtyBit) == 0) dirty_count_--;
  }
}

// ---------------------------------------------------------------- the file

std::string MerkleIndex::Encode(const FileState& state) const {
  std::string out;
  out.reserve(kHeaderBytes + 8 * splits_.size() + 4 + kLeafBytes * marks_.size() + 4);
  out.append(kMagic, sizeof(kMagic));
  base::PutFixed32(&out, kVersion);
  base::PutFixed32(&out, static_cast<uint32_t>(leaf_bits_));
  base::PutFixed64(&out, state.log_number);
  base::PutFixed64(&out, state.sequence);
  base::PutFixed32(&out, static_cast<uint32_t>(splits_.size()));
  for (uint64_t split : splits_) base::PutFixed64(&out, split);
  base::PutFixed32(&out, static_cast<uint32_t>(marks_.size()));
  for (size_t i = 0; i < marks_.size(); i++) {
    const Stored& leaf = stored_[i];
    const bool clean = (marks_[i] & kDirtyBit) == 0 && leaf.computed_at <= state.sequence;
    base::PutFixed64(&out, clean ? leaf.hash : 0);
    base::PutFixed64(&out, clean ? leaf.keys : 0);
    out.push_back(static_cast<char>(clean ? 0 : kDirtyFlag));
  }
  base::PutFixed32(&out, base::crc32c::Mask(base::crc32c::Value(out.data(), out.size())));
  return out;
}

base::Status MerkleIndex::Decode(std::string_view data, int expected_leaf_bits, FileState* state) {
  if (data.size() < kHeaderBytes + 4 + 4) return Bad("truncated (" + std::to_string(data.size()) + " bytes)");
  if (data.substr(0, sizeof(kMagic)) != std::string_view(kMagic, sizeof(kMagic))) return Bad("bad magic");
  const uint32_t stored_crc = base::DecodeFixed32(data.data() + data.size() - 4);
  if (base::crc32c::Unmask(stored_crc) != base::crc32c::Value(data.data(), data.size() - 4)) {
    return Bad("checksum mismatch");
  }
  std::string_view in = data.substr(sizeof(kMagic), data.size() - sizeof(kMagic) - 4);
  uint32_t version, leaf_bits, num_splits, num_leaves;
  FileState fs;
  base::GetFixed32(&in, &version);
  base::GetFixed32(&in, &leaf_bits);
  base::GetFixed64(&in, &fs.log_number);
  base::GetFixed64(&in, &fs.sequence);
  base::GetFixed32(&in, &num_splits);
  if (version != kVersion) return Bad("unknown version " + std::to_string(version));
  if (leaf_bits > kMaxLeafBits) return Bad("leaf_bits " + std::to_string(leaf_bits) + " out of range");
  if (static_cast<int>(leaf_bits) != expected_leaf_bits) {
    return base::Status::InvalidArgument("merkle index file has leaf_bits " + std::to_string(leaf_bits) +
                                         ", the DB is opened with " + std::to_string(expected_leaf_bits));
  }
  if (in.size() / 8 < num_splits) return Bad("truncated in the split points");
  std::vector<uint64_t> splits(num_splits);
  for (uint64_t& split : splits) base::GetFixed64(&in, &split);
  MerkleIndex index(static_cast<int>(leaf_bits), splits);
  if (index.splits_ != splits) return Bad("split points not sorted, unique and off the grid");
  if (!base::GetFixed32(&in, &num_leaves)) return Bad("truncated before the leaf count");
  if (num_leaves != index.num_leaves()) {
    return Bad(std::to_string(num_leaves) + " leaves where the boundaries give " + std::to_string(index.num_leaves()));
  }
  if (in.size() != kLeafBytes * num_leaves) return Bad("leaf table of the wrong length");
  for (size_t i = 0; i < num_leaves; i++) {
    const char* p = in.data() + i * kLeafBytes;
    const auto flags = static_cast<uint8_t>(p[16]);
    if (flags > kDirtyFlag) return Bad("leaf " + std::to_string(i) + " has unknown flags");
    if (flags == kDirtyFlag) continue;
    index.StoreIfUnchanged(i, 0, base::DecodeFixed64(p), base::DecodeFixed64(p + 8), 0);
  }
  index.generation_ = generation_ + 1;
  *this = std::move(index);
  *state = fs;
  return base::Status::OK();
}

}  // namespace kvring::lsm
