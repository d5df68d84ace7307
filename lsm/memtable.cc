#include "lsm/memtable.h"

#include <cstring>

#include "base/coding.h"
#include "lsm/write_batch.h"

namespace kvring::lsm {

namespace {

// Reads a varint32-prefixed slice starting at p (entries were written by Add,
// so they are well formed). Keys and values under 128 bytes, the common case on
// every comparison of the skiplist, take the inline one-byte path.
inline std::string_view GetLengthPrefixedSlice(const char* p) {
  const uint32_t first = static_cast<unsigned char>(*p);
  if (first < 128) return {p + 1, first};
  uint32_t len;
  const char* q = base::GetVarint32Ptr(p, p + 5, &len);
  return {q, len};
}

std::string_view EntryUserKey(const char* entry) { return ExtractUserKey(GetLengthPrefixedSlice(entry)); }

}  // namespace

int MemTable::KeyComparator::operator()(const char* a, const char* b) const {
  return CompareInternalKeys(GetLengthPrefixedSlice(a), GetLengthPrefixedSlice(b));
}

MemTable::MemTable(size_t bloom_bytes, size_t index_slots)
    : table_(KeyComparator(), &arena_), bloom_(bloom_bytes), index_(index_slots, &EntryUserKey) {}
MemTable::~MemTable() = default;

void MemTable::Add(SequenceNumber seq, ValueKind kind, std::string_view key, std::string_view value) {
  const size_t internal_key_size = key.size() + kInternalKeyTrailerBytes;
  const size_t encoded_len = base::VarintLength(internal_key_size) + internal_key_size +
                             base::VarintLength(value.size()) + value.size();
  const uint64_t hash = base::Hash64(key);
  index_.Prefetch(hash);  // its miss overlaps the skiplist walk below
  char* buf = table_.AllocateKey(encoded_len);
  char* p = base::EncodeVarint32(buf, static_cast<uint32_t>(internal_key_size));
  if (!key.empty()) std::memcpy(p, key.data(), key.size());  // data() may be null when empty
  p += key.size();
  base::EncodeFixed64(p, PackSequenceAndKind(seq, kind));
  p += kInternalKeyTrailerBytes;
  p = base::EncodeVarint32(p, static_cast<uint32_t>(value.size()));
  if (!value.empty()) std::memcpy(p, value.data(), value.size());
  bloom_.AddHash(hash);  // before the entry is published (see memtable_bloom.h)
  table_.InsertAllocated(buf);
  index_.Upsert(hash, key, buf);  // a key the full index cannot take stays unindexed
  entries_.fetch_add(1, std::memory_order_relaxed);
}

namespace {

class Inserter final : public WriteBatch::Handler {
 public:
  Inserter(MemTable* mem, SequenceNumber seq) : mem_(mem), seq_(seq) {}
  void Put(std::string_view key, std::string_view value) override { mem_->Add(seq_++, ValueKind::kValue, key, value); }
  void Delete(std::string_view key) override { mem_->Add(seq_++, ValueKind::kDeletion, key, {}); }

 private:
  MemTable* const mem_;
  SequenceNumber seq_;
};

}  // namespace

base::Status MemTable::AddBatchRep(std::string_view rep) {
  if (rep.size() < WriteBatch::kHeaderBytes) return base::Status::Corruption("write batch shorter than its header");
  Inserter inserter(this, WriteBatch::SequenceOf(rep));
  return WriteBatch::IterateRep(rep, &inserter);
}

const char* MemTable::FindEntry(const LookupKey& key) const {
  const std::string_view user_key = key.user_key();
  const uint64_t hash = base::Hash64(user_key);
  if (!bloom_.MayContainHash(hash)) return nullptr;
  if (const char* entry = index_.Find(hash, user_key)) {
    // The key's newest entry: the answer unless it is newer than the lookup
    // (an older snapshot, or a write not yet published).
    const uint64_t lookup_trailer = ExtractTrailer(key.internal_key());
    if ((ExtractTrailer(GetLengthPrefixedSlice(entry)) >> 8) <= (lookup_trailer >> 8)) return entry;
  } else if (!index_.full()) {
    return nullptr;  // every key is indexed: the bloom filter was wrong
  }
  Table::Iterator iter(&table_);
  iter.Seek(key.memtable_key().data());
  if (!iter.Valid()) return nullptr;
  // The entry is the first with internal key >= (user key, snapshot seq): check it
  // is the same user key; its sequence is then <= the snapshot.
  if (EntryUserKey(iter.key()) != user_key) return nullptr;
  return iter.key();
}

MemTable::GetResult MemTable::Get(const LookupKey& key, std::string* value) const {
  const char* entry = FindEntry(key);
  if (entry == nullptr) return GetResult::kAbsent;
  std::string_view internal_key = GetLengthPrefixedSlice(entry);
  const uint64_t trailer = ExtractTrailer(internal_key);
  if (static_cast<ValueKind>(trailer & 0xff) == ValueKind::kDeletion) return GetResult::kDeleted;
  std::string_view v = GetLengthPrefixedSlice(internal_key.data() + internal_key.size());
  value->assign(v.data(), v.size());
  return GetResult::kFound;
}

class MemTable::MemTableIterator final : public Iterator {
 public:
  explicit MemTableIterator(MemTable* mem) : mem_(mem), iter_(&mem->table_) { mem_->Ref(); }
  ~MemTableIterator() override { mem_->Unref(); }

  bool Valid() const override { return iter_.Valid(); }
  void SeekToFirst() override { iter_.SeekToFirst(); }
  void Seek(std::string_view target) override {
    // The skiplist compares length-prefixed keys: encode the target once.
    scratch_.clear();
    base::PutVarint32(&scratch_, static_cast<uint32_t>(target.size()));
    scratch_.append(target.data(), target.size());
    iter_.Seek(scratch_.data());
  }
  void Next() override {
    iter_.Next();
    // Nodes sit in insertion order, not key order: each step is a likely cache
    // miss. Start the next one now, so it overlaps the caller's work (a merge
    // takes several other entries before it comes back here).
    if (iter_.Valid()) __builtin_prefetch(iter_.PeekNext());
  }
  std::string_view key() const override { return GetLengthPrefixedSlice(iter_.key()); }
  std::string_view value() const override {
    std::string_view k = key();
    return GetLengthPrefixedSlice(k.data() + k.size());
  }
  base::Status status() const override { return base::Status::OK(); }

 private:
  MemTable* const mem_;
  Table::Iterator iter_;
  std::string scratch_;
};

std::unique_ptr<Iterator> MemTable::NewIterator() { return std::make_unique<MemTableIterator>(this); }

}  // namespace kvring::lsm
