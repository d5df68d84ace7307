// repl/messages.h — the cluster's messages on kvring's framing (net/protocol.h):
// node-to-node opcodes (0x40-0x7f) and the cluster admin opcodes kvctl uses
// (0x21-0x3f). Byte-by-byte in docs/protocol.md ("Cluster messages").
//
//   REPLICA_READ req: key:lp                       reply: found:u8 [set:lp]
//   REPLICA_WRITE req: key:lp set:lp               reply: (empty) once durable
//   HINTED_WRITE req: owner:lp key:lp set:lp       reply: (empty) once the set and a hint for owner are durable
//   FORWARD_WRITE req: kind:u8 w:u8 flags:u8 key:lp value:lp context:lp
//                                                  reply: write receipt (net/protocol.h)
//   GOSSIP_SYN, GOSSIP_PUSH                        repl/gossip.h
//   PROBE, PROBE_REQ                               repl/prober.h
//   RING         req: (empty)                      reply: ring description
//   CLUSTER_STATUS req: (empty)                    reply: count:varint32 member_report{count}
//   AAE_RANGE_HASHES, AAE_LEAF_HASHES, AAE_KEY_DIGESTS, AAE_SYNC   repl/aae_messages.h
//   REPAIR_START, REPAIR_STATUS                    repl/aae_messages.h
//
//   member := id:lp address:lp dc:lp rack:lp weight_milli:varint32
//   set    := an encoded SiblingSet (docs/formats/value.md)
//
// On-wire values: never renumber.
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "repl/client_context.h"
#include "repl/failure_detector.h"
#include "repl/member_state.h"
#include "repl/sibling_set.h"
#include "ring/node_info.h"

namespace kvring::repl {

enum class ClusterOpcode : uint8_t {
  kRing = 0x21,
  kClusterStatus = 0x22,
  kRepairStart = 0x23,   // kvctl repair (repl/aae_messages.h)
  kRepairStatus = 0x24,
  kCleanup = 0x25,           // kvctl cleanup (repl/range_cleanup.h)
  kMembershipChange = 0x28,  // kvctl join/decommission/removenode (repl/stream_messages.h)
  kMembershipStatus = 0x29,  // kvctl streams
  kMemberInfo = 0x40,  // retired with the static membership (answered NotSupported); never reused
  kReplicaRead = 0x41,
  kReplicaWrite = 0x42,
  kForwardWrite = 0x43,
  kGossipSyn = 0x44,    // repl/gossip.h
  kGossipPush = 0x45,
  kProbe = 0x46,        // repl/prober.h
  kProbeRequest = 0x47,
  kHintedWrite = 0x48,  // a replica write to a stand-in, with the owner it stands in for
  // Anti-entropy (repl/aae_messages.h).
  kAaeRangeHashes = 0x49,
  kAaeLeafHashes = 0x4a,
  kAaeKeyDigests = 0x4b,
  kAaeSync = 0x4c,
  kStreamRead = 0x4d,  // range streaming (repl/stream_messages.h)
};
constexpr uint8_t Op(ClusterOpcode op) { return static_cast<uint8_t>(op); }

// next_weight > 0: the member's weight once its weight change (kvctl set-weight)
// is done; it travels in gossip only (repl/member_state.h).
void EncodeMember(std::string* dst, const ring::NodeInfo& node, double next_weight = 0);
bool DecodeMember(std::string_view* input, ring::NodeInfo* node, double* next_weight = nullptr);

void EncodeReplicaReadReply(std::string* dst, const SiblingSet* set);  // null: not found
// *found says whether the replica holds the key; *set is filled when it does.
base::Status DecodeReplicaReadReply(std::string_view payload, bool* found, SiblingSet* set);

void EncodeReplicaWrite(std::string* dst, std::string_view key, const SiblingSet& set);
base::Status DecodeReplicaWrite(std::string_view body, std::string_view* key, SiblingSet* set);
// HINTED_WRITE := owner:lp replica_write: a REPLICA_WRITE to a stand-in for `owner`.
void EncodeHintedWrite(std::string* dst, std::string_view owner, std::string_view replica_write_body);
base::Status DecodeHintedWrite(std::string_view body, std::string_view* owner, std::string_view* key,
                               SiblingSet* set);

enum class WriteKind : uint8_t { kPut = 0, kDelete = 1 };
struct ForwardWrite {
  WriteKind kind = WriteKind::kPut;
  uint8_t consistency = 0;
  uint8_t flags = 0;
  std::string_view key;
  std::string_view value;
  std::string_view context;
};
void EncodeForwardWrite(std::string* dst, const ForwardWrite& m);
bool DecodeForwardWrite(std::string_view body, ForwardWrite* m);

// A client's GET reply payload (net/protocol.h) for a merged set: its live
// siblings with their clocks, and its history as the context. Written with
// net::GetReplyWriter, the encoder net::EncodeGetReply uses too.
void EncodeGetReply(const SiblingSet& set, const ContextKey& mac_key, std::string_view key, std::string* payload);
// A GET NotFound payload (version 2): the context of `set` (null: the empty one).
void EncodeNotFound(const SiblingSet* set, const ContextKey& mac_key, std::string_view key, std::string* payload);

// A sibling's clock as a client sees it in a GET reply (net::Sibling::clock):
//   clock := dot_node:lp dot_counter:varint64 context:vector
// kvctl decodes it to print the clock in readable form.
void EncodeSiblingClock(std::string* dst, const Sibling& sibling);
base::Status DecodeSiblingClock(std::string_view bytes, Dot* dot, VersionVector* context);

// One member in a RING reply.
struct RingMember {
  ring::NodeInfo node;
  uint32_t vnodes = 0;
  double replica_share = 0;  // fraction of the token space this node holds a replica of
  double primary_share = 0;  // fraction for which it is the first replica
};
struct RingDescription {
  uint64_t version = 0;
  std::string replication;  // the replication spec, e.g. "3" or "dc1:2,dc2:1"
  std::vector<RingMember> members;
  uint64_t fingerprint = 0;  // ring::Ring::Fingerprint(): equal on nodes that place keys alike
};
void EncodeRingDescription(std::string* dst, const RingDescription& ring);
bool DecodeRingDescription(std::string_view payload, RingDescription* ring);

// One line of CLUSTER_STATUS: a member's gossiped state and how the answering
// node sees it.
//   member_report := member_state liveness:u8 self:u8 heartbeat_age_ms:varint64
//                    suspected_by:varint32 id:lp{suspected_by} hints_for_it:varint64 detail:lp
struct MemberReport {
  MemberState state;                      // repl/member_state.h
  Liveness liveness = Liveness::kUp;      // up / suspect / down, at the answering node
  bool self = false;                      // the answering node itself
  uint64_t heartbeat_age_ms = 0;          // since its heartbeat last moved there
  std::vector<std::string> suspected_by;  // members whose gossip says they suspect it
  uint64_t hints_for_it = 0;              // hints the cluster's members hold for it
  std::string detail;                     // why it is suspected or down
};
void EncodeClusterStatus(std::string* dst, const std::vector<MemberReport>& members);
bool DecodeClusterStatus(std::string_view payload, std::vector<MemberReport>* members);

}  // namespace kvring::repl
