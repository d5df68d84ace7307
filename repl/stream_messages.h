// repl/stream_messages.h — range streaming and membership operations on kvring's
// framing. Byte by byte in docs/protocol.md ("Cluster messages"); what the
// operations do in repl/membership_ops.h and docs/operations.md.
//
//   STREAM_READ (0x4d)        req:   start:fixed64 end:fixed64 after:lp max_bytes:varint32
//                             reply: more:u8 count:varint32 (key:lp set:lp){count}
//     The stored sets of the keys of the token range (start, end] that come after
//     the user key `after` in storage order (empty: from the range's first key),
//     in storage order, until about max_bytes of them; more = 1 when the range
//     holds keys past the last one sent. Tombstones travel too.
//   MEMBERSHIP_CHANGE (0x28)  req:   kind:u8 target:lp          reply: membership_progress
//     kind := 1 join | 2 decommission | 3 removenode | 5 rebuild | 6 set-weight;
//     target: the removed member (removenode), the new weight as text (set-weight)
//   MEMBERSHIP_STATUS (0x29)  req:   (empty)                    reply: membership_progress
//
//   membership_progress := kind:u8 target:lp state:u8 detail:lp started_wall_us:varint64
//                          elapsed_us:varint64 count:varint32 stream{count}
//     kind  := 0 none | 1 join | 2 decommission | 3 removenode | 4 replace | 5 rebuild | 6 set-weight
//     state := 0 none | 1 announcing | 2 streaming | 3 done | 4 failed
//   stream := start:fixed64 end:fixed64 source:lp destination:lp keys:varint64
//             bytes:varint64 bytes_again:varint64 done:u8
//     bytes_again: bytes streamed a second time (a batch resent after a failure)
//
// Decoders answer Corruption naming the message and the entry that is malformed.
// On-wire values: never renumber.
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "ring/token.h"

namespace kvring::repl {

struct StreamReadRequest {
  ring::TokenRange range;
  std::string after;  // a user key; empty: from the start of the range
  uint32_t max_bytes = 0;
  friend bool operator==(const StreamReadRequest&, const StreamReadRequest&) = default;
};
void EncodeStreamRead(std::string* dst, const StreamReadRequest& request);
base::Status DecodeStreamRead(std::string_view body, StreamReadRequest* request);

struct StreamEntry {
  std::string key;  // the user key
  std::string set;  // the stored sibling set (repl/value_format.h)
  friend bool operator==(const StreamEntry&, const StreamEntry&) = default;
};
struct StreamBatch {
  std::vector<StreamEntry> entries;
  bool more = false;
  uint64_t bytes() const;  // of the keys and sets
  friend bool operator==(const StreamBatch&, const StreamBatch&) = default;
};
void EncodeStreamBatch(std::string* dst, const StreamBatch& batch);
base::Status DecodeStreamBatch(std::string_view payload, StreamBatch* batch);

enum class OperationKind : uint8_t {
  kNone = 0, kJoin = 1, kDecommission = 2, kRemoveNode = 3, kReplace = 4, kRebuild = 5, kSetWeight = 6
};
enum class OperationState : uint8_t { kNone = 0, kAnnouncing = 1, kStreaming = 2, kDone = 3, kFailed = 4 };
const char* OperationKindName(OperationKind kind);    // "join", "decommission", ...
const char* OperationStateName(OperationState state);  // "announcing", "streaming", ...

struct StreamProgress {
  ring::TokenRange range;
  std::string source;  // the source in use (or last used)
  std::string destination;
  uint64_t keys = 0, bytes = 0, bytes_again = 0;
  bool done = false;
  friend bool operator==(const StreamProgress&, const StreamProgress&) = default;
};

struct MembershipProgress {
  OperationKind kind = OperationKind::kNone;
  std::string target;
  OperationState state = OperationState::kNone;
  std::string detail;  // what it waits for, or why it failed
  uint64_t started_wall_us = 0, elapsed_us = 0;
  std::vector<StreamProgress> streams;

  uint64_t bytes() const;
  uint64_t keys() const;
  size_t streams_done() const;
  friend bool operator==(const MembershipProgress&, const MembershipProgress&) = default;
};
void EncodeStreamProgress(std::string* dst, const StreamProgress& stream);
bool DecodeStreamProgress(std::string_view* in, StreamProgress* stream);  // from the front of *in
void EncodeMembershipProgress(std::string* dst, const MembershipProgress& progress);
base::Status DecodeMembershipProgress(std::string_view payload, MembershipProgress* progress);

void EncodeMembershipChange(std::string* dst, OperationKind kind, std::string_view target);
base::Status DecodeMembershipChange(std::string_view body, OperationKind* kind, std::string* target);

}  // namespace kvring::repl
