// test/fuzz/cluster_messages.cc — libFuzzer target: the cluster message codecs of
// repl/messages.h (member, REPLICA_READ reply, REPLICA_WRITE, HINTED_WRITE,
// FORWARD_WRITE, a sibling's clock, the RING reply, CLUSTER_STATUS). The first
// input byte picks the codec, the rest is the body.
// Invariant: whatever decodes re-encodes to a fixed point of encode . decode,
// and a decoded sibling set keeps the structural invariants.
#include <string>
#include <vector>

#include "repl/messages.h"
#include "test/fuzz/round_trip.h"

namespace kvring::fuzz {
namespace {

using repl::SiblingSet;

bool DecodeMember(std::string_view b, ring::NodeInfo* m) { return repl::DecodeMember(&b, m) && b.empty(); }

struct ReadReply {
  bool found = false;
  SiblingSet set;
};
bool DecodeReadReply(std::string_view b, ReadReply* m) {
  if (!repl::DecodeReplicaReadReply(b, &m->found, &m->set).ok()) return false;
  // The structural invariants: what the decoder promises (docs/reliability.md).
  FUZZ_CHECK(SiblingSet::FromParts(m->set.history(), m->set.siblings()).ok());
  return true;
}
void EncodeReadReply(std::string* out, const ReadReply& m) {
  repl::EncodeReplicaReadReply(out, m.found ? &m.set : nullptr);
}

struct ReplicaWrite {
  std::string owner;  // HINTED_WRITE only
  std::string key;
  SiblingSet set;
};
bool DecodeReplicaWrite(std::string_view b, ReplicaWrite* m) {
  std::string_view key;
  if (!repl::DecodeReplicaWrite(b, &key, &m->set).ok()) return false;
  m->key = key;
  return true;
}
void EncodeReplicaWrite(std::string* out, const ReplicaWrite& m) { repl::EncodeReplicaWrite(out, m.key, m.set); }
bool DecodeHintedWrite(std::string_view b, ReplicaWrite* m) {
  std::string_view owner, key;
  if (!repl::DecodeHintedWrite(b, &owner, &key, &m->set).ok()) return false;
  FUZZ_CHECK(!owner.empty());
  m->owner = owner;
  m->key = key;
  return true;
}
void EncodeHintedWrite(std::string* out, const ReplicaWrite& m) {
  std::string body;
  repl::EncodeReplicaWrite(&body, m.key, m.set);
  repl::EncodeHintedWrite(out, m.owner, body);
}

struct Clock {
  repl::Sibling sibling;
};
bool DecodeClock(std::string_view b, Clock* m) {
  return repl::DecodeSiblingClock(b, &m->sibling.dot, &m->sibling.context).ok();
}
void EncodeClock(std::string* out, const Clock& m) { repl::EncodeSiblingClock(out, m.sibling); }

// EncodeMember's next weight has a default, which a function pointer drops.
void EncodeMember(std::string* out, const ring::NodeInfo& m) { repl::EncodeMember(out, m); }

void Fuzz(uint8_t selector, std::string_view body) {
  switch (selector % 8) {
    case 0: CheckRoundTrip<ring::NodeInfo>(body, DecodeMember, EncodeMember); return;
    case 1: CheckRoundTrip<ReadReply>(body, DecodeReadReply, EncodeReadReply); return;
    case 2: CheckRoundTrip<ReplicaWrite>(body, DecodeReplicaWrite, EncodeReplicaWrite); return;
    case 3: CheckRoundTrip<ReplicaWrite>(body, DecodeHintedWrite, EncodeHintedWrite); return;
    case 4: CheckRoundTrip<repl::ForwardWrite>(body, repl::DecodeForwardWrite, repl::EncodeForwardWrite); return;
    case 5: CheckRoundTrip<Clock>(body, DecodeClock, EncodeClock); return;
    case 6:
      CheckRoundTrip<repl::RingDescription>(body, repl::DecodeRingDescription, repl::EncodeRingDescription);
      return;
    default:
      CheckRoundTrip<std::vector<repl::MemberReport>>(body, repl::DecodeClusterStatus, repl::EncodeClusterStatus);
  }
}

}  // namespace
}  // namespace kvring::fuzz

KV_FUZZ_TARGET_WITH_SELECTOR(kvring::fuzz::Fuzz)
