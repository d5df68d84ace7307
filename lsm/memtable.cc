#include "lsm/memtable.h"

#include <cstring>
#include <new>

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

// A record: the 8-byte link, then the entry (see memtable.h).
inline const char* EntryOf(const char* record) { return record + MemTable::kLinkBytes; }
inline std::atomic<const char*>* LinkOf(const char* record) {
  return reinterpret_cast<std::atomic<const char*>*>(const_cast<char*>(record));
}
std::string_view RecordUserKey(const char* record) { return ExtractUserKey(GetLengthPrefixedSlice(EntryOf(record))); }
uint64_t RecordSequence(const char* record) { return ExtractTrailer(GetLengthPrefixedSlice(EntryOf(record))) >> 8; }

// The version after `record` in internal-key order within its key's node: the
// next older chained record, then the node's own record; null after that.
inline const char* OlderVersion(const char* node_record, const char* record) {
  if (record == node_record) return nullptr;
  const char* older = LinkOf(record)->load(std::memory_order_acquire);
  return older != nullptr ? older : node_record;
}
// The newest version of a node's key: the chain's head, else the node's record.
inline const char* NewestVersion(const char* node_record) {
  const char* head = LinkOf(node_record)->load(std::memory_order_acquire);
  return head != nullptr ? head : node_record;
}

}  // namespace

int MemTable::KeyComparator::operator()(const char* a, const char* b) const {
  return CompareInternalKeys(GetLengthPrefixedSlice(EntryOf(a)), GetLengthPrefixedSlice(EntryOf(b)));
}

MemTable::MemTable(size_t bloom_bytes, size_t index_slots)
    : table_(KeyComparator(), &arena_), bloom_(bloom_bytes), index_(index_slots, &RecordUserKey) {}
MemTable::~MemTable() = default;

void MemTable::Add(SequenceNumber seq, ValueKind kind, std::string_view key, std::string_view value) {
  const size_t internal_key_size = key.size() + kInternalKeyTrailerBytes;
  const size_t encoded_len = base::VarintLength(internal_key_size) + internal_key_size +
                             base::VarintLength(value.size()) + value.size();
  const uint64_t hash = base::Hash64(key);
  // A key already indexed gets its new version chained to its node: no skiplist
  // walk (the versions of one key arrive in increasing sequence order).
  const char* node_record = index_.Find(hash, key);
  char* record = node_record != nullptr ? arena_.AllocateAligned(kLinkBytes + encoded_len)
                                        : table_.AllocateKey(kLinkBytes + encoded_len);
  char* p = base::EncodeVarint32(record + kLinkBytes, static_cast<uint32_t>(internal_key_size));
  if (!key.empty()) std::memcpy(p, key.data(), key.size());  // data() may be null when empty
  p += key.size();
  base::EncodeFixed64(p, PackSequenceAndKind(seq, kind));
  p += kInternalKeyTrailerBytes;
  p = base::EncodeVarint32(p, static_cast<uint32_t>(value.size()));
  if (!value.empty()) std::memcpy(p, value.data(), value.size());
  bloom_.AddHash(hash);  // before the entry is published (see memtable_bloom.h)
  if (node_record != nullptr) {
    // Link to the previous head, then publish (release: readers load with acquire).
    std::atomic<const char*>* head = LinkOf(node_record);
    new (record) std::atomic<const char*>(head->load(std::memory_order_relaxed));
    head->store(record, std::memory_order_release);
  } else {
    new (record) std::atomic<const char*>(nullptr);  // no newer versions yet
    table_.InsertAllocated(record);
    index_.Upsert(hash, key, record);  // a key the full index cannot take stays unindexed
  }
  // One writer: a plain store, no locked add (readers only need a recent value).
  entries_.store(entries_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  data_bytes_.store(data_bytes_.load(std::memory_order_relaxed) + key.size() + value.size(),
                    std::memory_order_relaxed);
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
  const uint64_t snapshot = ExtractTrailer(key.internal_key()) >> 8;
  if (const char* node_record = index_.Find(hash, user_key)) {
    // Every version of an indexed key hangs off its node, newest first: the
    // first at or below the lookup's sequence (entries newer than it: an older
    // snapshot, or a write not yet published).
    for (const char* r = NewestVersion(node_record); r != nullptr; r = OlderVersion(node_record, r)) {
      if (RecordSequence(r) <= snapshot) return EntryOf(r);
    }
    return nullptr;
  }
  if (!index_.full()) return nullptr;  // every key is indexed: the bloom filter was wrong
  // Not indexed: each version is a node of its own, newest first in the list.
  std::string target(kLinkBytes, '\0');
  target.append(key.memtable_key());
  Table::Iterator iter(&table_);
  iter.Seek(target.data());
  if (!iter.Valid()) return nullptr;
  // The first record with internal key >= (user key, snapshot seq): check it is
  // the same user key; its sequence is then <= the snapshot.
  if (RecordUserKey(iter.key()) != user_key) return nullptr;
  return EntryOf(iter.key());
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

  bool Valid() const override { return current_ != nullptr; }
  void SeekToFirst() override {
    iter_.SeekToFirst();
    EnterNode();
  }
  void Seek(std::string_view target) override {
    // The skiplist compares records: encode the target as one (a zero link and a
    // length-prefixed key) once.
    scratch_.assign(kLinkBytes, '\0');
    base::PutVarint32(&scratch_, static_cast<uint32_t>(target.size()));
    scratch_.append(target.data(), target.size());
    iter_.Seek(scratch_.data());
    EnterNode();
    // The node's record is >= target; newer versions chained to it may not be.
    while (current_ != node_ && CompareInternalKeys(key(), target) < 0) current_ = OlderVersion(node_, current_);
  }
  void Next() override {
    current_ = OlderVersion(node_, current_);
    if (current_ != nullptr) return;
    iter_.Next();
    // Nodes sit in insertion order, not key order: each step is a likely cache
    // miss. Start the next one now, so it overlaps the caller's work (a merge
    // takes several other entries before it comes back here).
    if (iter_.Valid()) __builtin_prefetch(iter_.PeekNext());
    EnterNode();
  }
  std::string_view key() const override { return GetLengthPrefixedSlice(EntryOf(current_)); }
  std::string_view value() const override {
    std::string_view k = key();
    return GetLengthPrefixedSlice(k.data() + k.size());
  }
  base::Status status() const override { return base::Status::OK(); }

 private:
  // Positions at the newest version of the skiplist iterator's node.
  void EnterNode() {
    node_ = iter_.Valid() ? iter_.key() : nullptr;
    current_ = node_ != nullptr ? NewestVersion(node_) : nullptr;
  }

  MemTable* const mem_;
  Table::Iterator iter_;
  const char* node_ = nullptr;     // the skiplist node's record
  const char* current_ = nullptr;  // the version at the position (node_'s or chained)
  std::string scratch_;
};

std::unique_ptr<Iterator> MemTable::NewIterator() { return std::make_unique<MemTableIterator>(this); }

}  // namespace kvring::lsm
