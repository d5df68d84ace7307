#include "repl/leaf_source.h"

#include <algorithm>
#include <cstring>

#include "base/coding.h"
#include "base/hash.h"
#include "repl/key_digest.h"
#include "repl/replica_store.h"

namespace kvring::repl {

using base::Status;

std::string PrefixKey(uint64_t prefix) {
  std::string key(8, '\0');
  base::EncodeBigEndian64(key.data(), prefix);
  return key;
}

namespace {

uint64_t PrefixOf(std::string_view storage_key) {
  char buf[8] = {0};
  std::memcpy(buf, storage_key.data(), std::min<size_t>(8, storage_key.size()));
  return base::DecodeBigEndian64(buf);
}

// The end of the grid leaf holding `prefix`, clipped to the interval's end.
uint64_t LeafEnd(uint64_t prefix, int leaf_bits, uint64_t interval_end) {
  const int shift = 64 - leaf_bits;
  uint64_t end = shift == 64 ? 0 : ((prefix >> shift) + 1) << shift;  // 0: wrapped to 2^64
  if (interval_end != 0 && (end == 0 || end > interval_end)) end = interval_end;
  return end;
}

}  // namespace

uint64_t EntryHash(std::string_view storage_key, uint64_t digest) {
  std::string bytes(storage_key);
  base::PutFixed64(&bytes, digest);
  return base::Hash64(bytes);
}

uint64_t RangeHash(const std::vector<LeafHash>& leaves) {
  uint64_t x = 0, keys = 0;
  for (const LeafHash& l : leaves) x ^= l.hash, keys += l.keys;
  std::string bytes;
  base::PutFixed64(&bytes, x);
  base::PutFixed64(&bytes, keys);
  return base::Hash64(bytes);
}

template <typename Visit>
Status ScanLeafSource::Scan(PrefixInterval interval, Visit&& visit) {
  lsm::ReadOptions options;
  options.fill_cache = false;
  std::unique_ptr<lsm::Iterator> it = db_->NewIterator(options);
  const std::string limit = PrefixKey(interval.end);
  for (it->Seek(PrefixKey(interval.begin)); it->Valid(); it->Next()) {
    if (interval.end != 0 && it->key() >= limit) break;
    uint64_t digest = 0;
    if (StoredValueDigest(it->key(), it->value(), &digest)) visit(it->key(), digest);
  }
  return it->status();
}

Status ScanLeafSource::Leaves(PrefixInterval interval, std::vector<LeafHash>* leaves) {
  leaves->clear();
  // Every grid leaf of the interval, empty ones too, as the engine's index lists them.
  for (uint64_t p = interval.begin;;) {
    const uint64_t end = LeafEnd(p, leaf_bits_, interval.end);
    leaves->push_back({p, end, 0, 0});
    if (end == interval.end || end == 0) break;
    p = end;
  }
  size_t i = 0;
  return Scan(interval, [&](std::string_view key, uint64_t digest) {
    const uint64_t prefix = PrefixOf(key);
    while (leaves->at(i).end != 0 && prefix >= leaves->at(i).end) i++;
    leaves->at(i).hash ^= EntryHash(key, digest);
    leaves->at(i).keys++;
  });
}

Status MerkleLeafSource::Leaves(PrefixInterval interval, std::vector<LeafHash>* leaves) {
  std::vector<lsm::MerkleLeaf> engine;
  KV_RETURN_IF_ERROR(db_->MerkleLeaves(interval.begin, interval.end, &engine));
  leaves->clear();
  leaves->reserve(engine.size());
  for (const lsm::MerkleLeaf& l : engine) leaves->push_back({l.begin, l.end, l.hash, l.keys});
  return Status::OK();
}

Status ScanLeafSource::Digests(PrefixInterval interval, std::vector<KeyDigestEntry>* entries) {
  entries->clear();
  return Scan(interval, [&](std::string_view key, uint64_t digest) {
    std::string_view user;
    if (UserKeyOf(key, &user)) entries->push_back({std::string(user), digest});
  });
}

}  // namespace kvring::repl
