// repl/aae_messages.h — the anti-entropy exchange between two replicas and the
// kvctl repair admin messages, on kvring's framing. Byte by byte in
// docs/protocol.md ("Cluster messages"); what the exchange does with them in
// repl/aae_exchange.h.
//
//   AAE_RANGE_HASHES (0x49) req:   count:varint32 range_hash{count}
//                           reply: count:varint32 index:varint32{count}   (the ranges that differ)
//     range_hash := begin:fixed64 end:fixed64 hash:fixed64 keys:varint64
//   AAE_LEAF_HASHES (0x4a)  req:   begin:fixed64 end:fixed64
//                           reply: count:varint32 leaf{count}   (the leaves holding keys)
//     leaf := begin:fixed64 end:fixed64 hash:fixed64 keys:varint64
//   AAE_KEY_DIGESTS (0x4b)  req:   begin:fixed64 end:fixed64
//                           reply: count:varint32 (key:lp digest:fixed64){count}
//   AAE_SYNC (0x4c)         req:   count:varint32 (key:lp has:u8 [set:lp]){count}
//                           reply: count:varint32 (differs:u8 [set:lp]){count}   one per request entry
//     The receiver merges every set it was sent (once durable it answers) and
//     answers, per key, its own set when it differs from what it was sent.
//   REPAIR_START (0x23)     req:   peer:lp has_range:u8 [begin:fixed64 end:fixed64]   reply: repair_progress
//   REPAIR_STATUS (0x24)    req:   (empty)                                           reply: repair_progress
//
// Prefixes (begin, end) are token-ordered engine prefixes (repl/leaf_source.h):
// end 0 stands for 2^64. Decoders answer Corruption naming the message and the
// entry that is malformed.
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "repl/leaf_source.h"
#include "repl/sibling_set.h"

namespace kvring::repl {

struct RangeHashEntry {
  PrefixInterval interval;
  uint64_t hash = 0;
  uint64_t keys = 0;
  friend bool operator==(const RangeHashEntry&, const RangeHashEntry&) = default;
};
void EncodeRangeHashes(std::string* dst, const std::vector<RangeHashEntry>& ranges);
base::Status DecodeRangeHashes(std::string_view body, std::vector<RangeHashEntry>* ranges);
void EncodeDifferingRanges(std::string* dst, const std::vector<uint32_t>& indexes);
// REQUIRES-by-check: every index < request_count (Corruption otherwise).
base::Status DecodeDifferingRanges(std::string_view payload, size_t request_count, std::vector<uint32_t>* indexes);

void EncodeInterval(std::string* dst, PrefixInterval interval);
base::Status DecodeInterval(std::string_view body, const char* what, PrefixInterval* interval);

void EncodeLeafHashes(std::string* dst, const std::vector<LeafHash>& leaves);
base::Status DecodeLeafHashes(std::string_view payload, std::vector<LeafHash>* leaves);

void EncodeKeyDigests(std::string* dst, const std::vector<KeyDigestEntry>& entries);
base::Status DecodeKeyDigests(std::string_view payload, std::vector<KeyDigestEntry>* entries);

struct SyncEntry {
  std::string key;
  std::optional<SiblingSet> set;  // none: the sender holds nothing for the key
};
void EncodeSync(std::string* dst, const std::vector<SyncEntry>& entries);
base::Status DecodeSync(std::string_view body, std::vector<SyncEntry>* entries);
// One answer per request entry: the receiver's set where it differs (else none).
void EncodeSyncReply(std::string* dst, const std::vector<std::optional<SiblingSet>>& sets);
base::Status DecodeSyncReply(std::string_view payload, size_t request_count,
                             std::vector<std::optional<SiblingSet>>* sets);

// kvctl repair.
struct RepairRequest {
  std::string peer;                      // empty: every co-replica
  std::optional<PrefixInterval> range;   // none: every range this node replicates
  friend bool operator==(const RepairRequest&, const RepairRequest&) = default;
};
void EncodeRepairRequest(std::string* dst, const RepairRequest& request);
base::Status DecodeRepairRequest(std::string_view body, RepairRequest* request);

enum class RepairState : uint8_t { kNone = 0, kRunning = 1, kDone = 2, kFailed = 3 };
const char* RepairStateName(RepairState state);

// What a repair job (or the last full comparison) did.
//   repair_progress := state:u8 job:varint64 ranges_total:varint64 ranges_done:varint64
//     ranges_differing:varint64 leaves_differing:varint64 keys_sent:varint64
//     keys_received:varint64 bytes_sent:varint64 bytes_received:varint64
//     started_wall_us:varint64 elapsed_us:varint64 detail:lp
//     last_full_wall_us:varint64 last_full_ranges_differing:varint64 last_full_keys_repaired:varint64
struct RepairProgress {
  RepairState state = RepairState::kNone;
  uint64_t job = 0;  // 0: none yet
  uint64_t ranges_total = 0, ranges_done = 0, ranges_differing = 0, leaves_differing = 0;
  uint64_t keys_sent = 0, keys_received = 0, bytes_sent = 0, bytes_received = 0;
  uint64_t started_wall_us = 0, elapsed_us = 0;
  std::string detail;  // why it failed, or what it is waiting for
  // The last completed full comparison of every range with every co-replica
  // (a repair job or a completed automatic cycle): when, and what it found.
  uint64_t last_full_wall_us = 0, last_full_ranges_differing = 0, last_full_keys_repaired = 0;
  friend bool operator==(const RepairProgress&, const RepairProgress&) = default;
};
void EncodeRepairProgress(std::string* dst, const RepairProgress& progress);
base::Status DecodeRepairProgress(std::string_view payload, RepairProgress* progress);

}  // namespace kvring::repl
