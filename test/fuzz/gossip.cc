// test/fuzz/gossip.cc — libFuzzer target: the gossip messages of repl/gossip.h
// (GOSSIP_SYN, its reply, GOSSIP_PUSH) and the member states inside them
// (repl/member_state.h). The first input byte picks the message.
// Invariant: whatever decodes re-encodes to a fixed point of encode . decode,
// with equal fields.
#include <string>
#include <vector>

#include "repl/gossip.h"
#include "test/fuzz/round_trip.h"

namespace kvring::fuzz {
namespace {

using repl::GossipDigest;
using repl::MemberState;

struct Syn {
  std::string cluster, from;
  std::vector<GossipDigest> digests;
  friend bool operator==(const Syn&, const Syn&) = default;
};
bool DecodeSyn(std::string_view b, Syn* m) { return repl::DecodeGossipSyn(b, &m->cluster, &m->from, &m->digests); }
void EncodeSyn(std::string* out, const Syn& m) { repl::EncodeGossipSyn(out, m.cluster, m.from, m.digests); }

struct Ack {
  std::vector<MemberState> states;
  std::vector<std::string> wants;
  friend bool operator==(const Ack&, const Ack&) = default;
};
bool DecodeAck(std::string_view b, Ack* m) { return repl::DecodeGossipAck(b, &m->states, &m->wants); }
void EncodeAck(std::string* out, const Ack& m) { repl::EncodeGossipAck(out, m.states, m.wants); }

struct Push {
  std::string cluster, from;
  std::vector<MemberState> states;
  friend bool operator==(const Push&, const Push&) = default;
};
bool DecodePush(std::string_view b, Push* m) { return repl::DecodeGossipPush(b, &m->cluster, &m->from, &m->states); }
void EncodePush(std::string* out, const Push& m) { repl::EncodeGossipPush(out, m.cluster, m.from, m.states); }

bool DecodeState(std::string_view b, MemberState* m) { return repl::DecodeMemberState(&b, m) && b.empty(); }

void Fuzz(uint8_t selector, std::string_view body) {
  std::equal_to<> same;
  switch (selector % 4) {
    case 0: CheckRoundTrip<Syn>(body, DecodeSyn, EncodeSyn, same); return;
    case 1: CheckRoundTrip<Ack>(body, DecodeAck, EncodeAck, same); return;
    case 2: CheckRoundTrip<Push>(body, DecodePush, EncodePush, same); return;
    default: CheckRoundTrip<MemberState>(body, DecodeState, repl::EncodeMemberState, same);
  }
}

}  // namespace
}  // namespace kvring::fuzz

KV_FUZZ_TARGET_WITH_SELECTOR(kvring::fuzz::Fuzz)
