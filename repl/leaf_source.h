// repl/leaf_source.h — where anti-entropy reads a replica's Merkle leaves and the
// (key, digest) listing of a leaf: the seam between the exchange (repl/aae_*) and
// the engine.
//
// Prefixes: an engine key (repl/replica_store.h: big-endian token | key) is placed
// by its first 8 bytes read as a big-endian u64, i.e. its token. A ring range
// (a, b] of tokens is the prefix interval [a + 1, b + 1) (end 0 stands for 2^64).
//
// Leaf hash := XOR over the leaf's indexed entries of
//              Hash64(storage_key | digest:fixed64)     (0 when empty)
// where digest is repl/key_digest.h's (entries without one are not indexed).
// Two replicas with the same entries in a leaf have the same hash whatever order
// the writes came in.
//
// ScanLeafSource computes both from a range scan of the engine (every data block
// of the interval is read). MerkleLeafSource answers the leaves from the engine's
// incremental index (lsm::DB::MerkleLeaves: no data block read for a clean leaf)
// and the listings by a scan of the one leaf. Every replica of a cluster must use
// the same kind (kvnode: MerkleLeafSource).
// Thread safety: implementations are thread-safe; calls block on engine reads, so
// run them on an I/O pool, never on an event loop.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "lsm/engine.h"

namespace kvring::repl {

// The smallest engine key with this 8-byte big-endian prefix (a token).
std::string PrefixKey(uint64_t prefix);

// A prefix interval [begin, end); end == 0 means 2^64.
struct PrefixInterval {
  uint64_t begin = 0;
  uint64_t end = 0;
  friend bool operator==(const PrefixInterval&, const PrefixInterval&) = default;
};

struct LeafHash {
  uint64_t begin = 0, end = 0;  // end == 0: 2^64
  uint64_t hash = 0;
  uint64_t keys = 0;
  friend bool operator==(const LeafHash&, const LeafHash&) = default;
};

struct KeyDigestEntry {
  std::string key;  // the user key
  uint64_t digest = 0;
  friend bool operator==(const KeyDigestEntry&, const KeyDigestEntry&) = default;
};

// The hash one entry adds to its leaf.
uint64_t EntryHash(std::string_view storage_key, uint64_t digest);
// A range's hash: of the XOR and the key count of its leaves (independent of
// where the leaf boundaries fall inside it).
uint64_t RangeHash(const std::vector<LeafHash>& leaves);

class LeafSource {
 public:
  virtual ~LeafSource() = default;
  // Every leaf inside [begin, end), in order, with exact hashes.
  virtual base::Status Leaves(PrefixInterval interval, std::vector<LeafHash>* leaves) = 0;
  // The indexed (key, digest) of every key in [begin, end), in storage order.
  virtual base::Status Digests(PrefixInterval interval, std::vector<KeyDigestEntry>* entries) = 0;
};

// Both answers from range scans of `db` (no index): leaves of 2^(64 - leaf_bits)
// prefixes, clipped to the interval.
class ScanLeafSource : public LeafSource {
 public:
  // *db must outlive the source. REQUIRES: 0 <= leaf_bits <= 20.
  ScanLeafSource(lsm::DB* db, int leaf_bits) : db_(db), leaf_bits_(leaf_bits) {}
  base::Status Leaves(PrefixInterval interval, std::vector<LeafHash>* leaves) override;
  base::Status Digests(PrefixInterval interval, std::vector<KeyDigestEntry>* entries) override;

 protected:
  // Calls visit(storage_key, digest) for every indexed entry of the interval.
  template <typename Visit>
  base::Status Scan(PrefixInterval interval, Visit&& visit);

  lsm::DB* const db_;
  const int leaf_bits_;
};

// Leaves from the engine's Merkle index (lsm::Options::merkle with
// StoredValueDigest as the digest), listings by range scans.
class MerkleLeafSource : public ScanLeafSource {
 public:
  // *db must outlive the source and have its Merkle index on.
  explicit MerkleLeafSource(lsm::DB* db) : ScanLeafSource(db, 0) {}
  base::Status Leaves(PrefixInterval interval, std::vector<LeafHash>* leaves) override;
};

}  // namespace kvring::repl
