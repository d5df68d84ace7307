// repl/member_state.h — what gossip says about one member, and the file a node
// keeps its member table in.
//
// Each member owns its state and alone changes it: at every heartbeat (once a
// gossip interval) and at every change of status, load, suspicions or hints it
// raises `version`; a restart raises `generation` (DATA/node_state) and starts
// `version` again from 1. A state is newer than another of the same member iff
// its (generation, version) pair is larger: gossip passes on only newer states,
// and a restarted node's low version is never mistaken for an old one.
//
//   member_state := node:member generation:varint64 version:varint64 status:u8
//                   load_bytes:varint64 load_keys:varint64
//                   suspects:varint32 id:lp{suspects}
//                   hints:varint32 (owner:lp count:varint64){hints}
//   member       := repl/messages.h (id, address, dc, rack, weight [token_id] [next_weight])
//   status       := 0 joining | 1 normal | 2 leaving | 3 left | 4 removed | 5 removing
//
//   members file := magic:"KVMB" version:u8 count:varint32 member_state{count} crc:fixed32
//                   (crc: masked crc32c of every byte before it)
// Byte by byte with examples: docs/formats/members.md and docs/protocol.md
// (gossip messages). On-disk and on-wire values: never renumber.
// Thread safety: values and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/env.h"
#include "base/status.h"
#include "ring/node_info.h"

namespace kvring::repl {

// joining: streams the ranges it will own; not in the ring in force, in the ring after.
// normal: in the ring. leaving: decommissioning, streams its ranges away; in the ring in
// force, not in the ring after. left: decommissioned. removing: gone for good and
// being re-replicated by the others (kvctl removenode, kvnode --replace); like
// leaving, but never a stream source; the node driving the removal speaks for it.
// removed: re-replicated. Left and removed members are in neither ring.
enum class MemberStatus : uint8_t {
  kJoining = 0, kNormal = 1, kLeaving = 2, kLeft = 3, kRemoved = 4, kRemoving = 5
};
const char* MemberStatusName(MemberStatus status);  // "joining", "normal", ...
// True for the statuses whose member owns ranges of the ring in force (normal,
// leaving, removing).
bool OwnsRanges(MemberStatus status);
// True for the statuses whose member owns ranges once the running change is done
// (joining, normal).
bool OwnsRangesAfter(MemberStatus status);

struct MemberState {
  ring::NodeInfo node;
  uint64_t generation = 0;
  uint64_t version = 0;
  MemberStatus status = MemberStatus::kNormal;
  // The member's data: keys + values as written (uncompressed, every version its
  // engine still holds), and its entries less the tables' tombstones.
  uint64_t load_bytes = 0;
  uint64_t load_keys = 0;
  std::vector<std::string> suspects;                        // members it suspects or holds down, sorted
  std::vector<std::pair<std::string, uint64_t>> hints;      // owner -> hints it holds for that owner
  double next_weight = 0;  // > 0 while a weight change runs: node.weight once it is done (in the member field)

  // (generation, version) is larger: this state replaces `other`.
  bool NewerThan(const MemberState& other) const {
    return generation != other.generation ? generation > other.generation : version > other.version;
  }
  friend bool operator==(const MemberState&, const MemberState&) = default;
};

void EncodeMemberState(std::string* dst, const MemberState& state);
// Parses one state from the front of *input. False on malformed input.
bool DecodeMemberState(std::string_view* input, MemberState* state);

constexpr uint8_t kMembersFileVersion = 1;
constexpr char kMembersFileName[] = "members";

void EncodeMembersFile(const std::vector<MemberState>& members, std::string* dst);
// Corruption naming what is wrong; NotSupported for a newer version.
[[nodiscard]] base::Result<std::vector<MemberState>> DecodeMembersFile(std::string_view bytes);
// Reads DATA/members: the states in it, or none when the file does not exist. A
// file in the static membership's text format (one `id address dc rack weight`
// line per member, before gossip) is read too, as generation-0 states.
[[nodiscard]] base::Result<std::vector<MemberState>> LoadMembersFile(base::Env* env, const std::string& path);
[[nodiscard]] base::Status SaveMembersFile(base::Env* env, const std::string& path,
                                           const std::vector<MemberState>& members);

}  // namespace kvring::repl
