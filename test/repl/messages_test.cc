// Golden bytes of every cluster message of docs/protocol.md section 9 (the
// worked examples of section 9.1 are these): each is built from real values (a
// SiblingSet written by SiblingSet::Put at a fixed time, members with fixed ids
// and addresses, a real ring's ownership), pinned as hex, decoded back, and
// checked to be rejected when truncated anywhere or extended by a byte.
#include "repl/messages.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "base/coding.h"
#include "repl/client_context.h"
#include "repl/gossip.h"
#include "repl/prober.h"
#include "repl/value_format.h"
#include "ring/membership_view.h"
#include "ring/ownership.h"
#include "test/repl/repl_test_util.h"
#include "test/util/test_util.h"

namespace kvring::repl {
namespace {

using test::Hex;
using testing::kRedSet;
using testing::RedSet;

ring::NodeInfo N1() { return {"n1", "10.0.0.1:7000", "dc1", "rack1", 1.0}; }
ring::NodeInfo N2() { return {"n2", "10.0.0.2:7000", "dc1", "rack2", 1.5}; }


const char kMemberN1[] = "02 6e 31 0d 31 30 2e 30 2e 30 2e 31 3a 37 30 30 30 03 64 63 31 05 72 61 63 6b 31 e8 07";
const char kMemberN2[] = "02 6e 32 0d 31 30 2e 30 2e 30 2e 32 3a 37 30 30 30 03 64 63 31 05 72 61 63 6b 32 dc 0b";

// accepts(bytes) must hold for the whole message and fail for every proper
// prefix and for the message with one more byte.
void ExpectTruncationsAndExtensionRejected(const std::string& bytes,
                                           const std::function<bool(std::string_view)>& accepts) {
  EXPECT_TRUE(accepts(bytes)) << "the pinned bytes must decode";
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(accepts(std::string_view(bytes).substr(0, n))) << "accepted when truncated to " << n << " bytes";
  }
  EXPECT_FALSE(accepts(bytes + std::string(1, '\0'))) << "accepted with a trailing byte";
}

// REPLICA_READ's request as node/node_service.cc reads it: one key, nothing after.
bool DecodeReplicaReadRequest(std::string_view body, std::string_view* key) {
  return base::GetLengthPrefixed(&body, key) && body.empty() && !key->empty();
}

TEST(ClusterMessages, TheSetInTheExamplesIsTheStoredValueOfARealWrite) {
  std::string bytes;
  EncodeSiblingSet(RedSet(), &bytes);
  EXPECT_EQ(kRedSet, Hex(bytes));
}

// n1 in generation 3 at heartbeat 17 with 4 KiB of data; n2 in generation 1,
// suspecting n3 and holding 12 hints for it.
MemberState StateN1() { return {N1(), 3, 17, MemberStatus::kNormal, 4096, 0, {}, {}}; }
MemberState StateN2() { return {N2(), 1, 5, MemberStatus::kNormal, 0, 0, {"n3"}, {{"n3", 12}}}; }
const char kStateN1[] = "02 6e 31 0d 31 30 2e 30 2e 30 2e 31 3a 37 30 30 30 03 64 63 31 05 72 61 63 6b 31 e8 07 03 11 01 80 "
                        "20 00 00 00";
const char kStateN2[] = "02 6e 32 0d 31 30 2e 30 2e 30 2e 32 3a 37 30 30 30 03 64 63 31 05 72 61 63 6b 32 dc 0b 01 05 01 00 "
                        "00 01 02 6e 33 01 02 6e 33 0c";

TEST(ClusterMessages, AMemberStateIsItsMemberGenerationHeartbeatStatusLoadSuspicionsAndHints) {
  std::string bytes;
  EncodeMemberState(&bytes, StateN1());
  EXPECT_EQ(std::string(kMemberN1) + " 03 11 01 80 20 00 00 00", Hex(bytes));
  EXPECT_EQ(kStateN1, Hex(bytes));
  bytes.clear();
  EncodeMemberState(&bytes, StateN2());
  EXPECT_EQ(kStateN2, Hex(bytes));
  ExpectTruncationsAndExtensionRejected(bytes, [](std::string_view b) {
    MemberState m;
    return DecodeMemberState(&b, &m) && b.empty() && m == StateN2();
  });
  std::string bad_status = bytes;
  bad_status[31] = 6;  // n2's status byte: only 0..5 exist
  std::string_view in = bad_status;
  MemberState m;
  EXPECT_FALSE(DecodeMemberState(&in, &m));
}

TEST(ClusterMessages, AReplacementCarriesTheTokenIdOfTheMemberItReplacesInItsWeightField) {
  ring::NodeInfo n4{"n4", "10.0.0.4:7000", "dc1", "rack1", 1.0};
  n4.token_id = "n3";
  std::string bytes;
  EncodeMember(&bytes, n4);
  // weight 1000 plus 2^31 (a token id follows), then the token id.
  EXPECT_EQ("02 6e 34 0d 31 30 2e 30 2e 30 2e 34 3a 37 30 30 30 03 64 63 31 05 72 61 63 6b 31 e8 87 80 80 08 "
            "02 6e 33",
            Hex(bytes));
  ExpectTruncationsAndExtensionRejected(bytes, [&](std::string_view b) {
    ring::NodeInfo m;
    return DecodeMember(&b, &m) && b.empty() && m == n4;
  });
  // A member without one is as before.
  bytes.clear();
  EncodeMember(&bytes, N1());
  EXPECT_EQ(kMemberN1, Hex(bytes));
  // A flag with an empty token id is malformed.
  std::string raw;
  EncodeMember(&raw, n4);
  raw.resize(raw.size() - 3);  // drop the token id "02 6e 33"...
  raw.push_back('\0');         // ... for an empty one
  std::string_view in = raw;
  ring::NodeInfo m;
  EXPECT_FALSE(DecodeMember(&in, &m));
}

TEST(ClusterMessages, GossipSynNamesTheClusterTheSenderAndADigestPerMember) {
  std::string body;
  EncodeGossipSyn(&body, "kvring", "n1", {{"n1", 3, 17}, {"n2", 1, 4}});
  EXPECT_EQ("06 6b 76 72 69 6e 67 02 6e 31 02 02 6e 31 03 11 02 6e 32 01 04", Hex(body));
  std::string cluster, from;
  std::vector<GossipDigest> digests;
  ASSERT_TRUE(DecodeGossipSyn(body, &cluster, &from, &digests));
  EXPECT_EQ("kvring", cluster);
  EXPECT_EQ("n1", from);
  EXPECT_EQ((std::vector<GossipDigest>{{"n1", 3, 17}, {"n2", 1, 4}}), digests);
  ExpectTruncationsAndExtensionRejected(body, [](std::string_view b) {
    std::string c, f;
    std::vector<GossipDigest> d;
    return DecodeGossipSyn(b, &c, &f, &d);
  });
}

TEST(ClusterMessages, GossipAckCarriesTheNewerStatesAndWhatItWants) {
  // n2 holds n2 at version 5 where the digest said 4, and wants n1's newer state.
  std::string payload;
  EncodeGossipAck(&payload, {StateN2()}, {"n1"});
  EXPECT_EQ("01 " + std::string(kStateN2) + " 01 02 6e 31", Hex(payload));
  std::vector<MemberState> states;
  std::vector<std::string> wants;
  ASSERT_TRUE(DecodeGossipAck(payload, &states, &wants));
  EXPECT_EQ(std::vector<MemberState>{StateN2()}, states);
  EXPECT_EQ(std::vector<std::string>{"n1"}, wants);
  ExpectTruncationsAndExtensionRejected(payload, [](std::string_view p) {
    std::vector<MemberState> s;
    std::vector<std::string> w;
    return DecodeGossipAck(p, &s, &w);
  });
}

TEST(ClusterMessages, GossipPushSendsWhatWasWanted) {
  std::string body;
  EncodeGossipPush(&body, "kvring", "n1", {StateN1()});
  EXPECT_EQ("06 6b 76 72 69 6e 67 02 6e 31 01 " + std::string(kStateN1), Hex(body));
  std::string cluster, from;
  std::vector<MemberState> states;
  ASSERT_TRUE(DecodeGossipPush(body, &cluster, &from, &states));
  EXPECT_EQ(std::vector<MemberState>{StateN1()}, states);
  ExpectTruncationsAndExtensionRejected(body, [](std::string_view b) {
    std::string c, f;
    std::vector<MemberState> s;
    return DecodeGossipPush(b, &c, &f, &s);
  });
}

TEST(ClusterMessages, ProbeNamesTheSenderAndItsReplyTheAnswerersRun) {
  std::string body, reply, request;
  EncodeProbe(&body, "n1");
  EXPECT_EQ("02 6e 31", Hex(body));
  EncodeProbeReply(&reply, "n2", 1);
  EXPECT_EQ("02 6e 32 01", Hex(reply));
  EncodeProbeRequest(&request, ring::NodeInfo{"n3", "10.0.0.3:7000"});
  EXPECT_EQ("02 6e 33 0d 31 30 2e 30 2e 30 2e 33 3a 37 30 30 30", Hex(request));
  ExpectTruncationsAndExtensionRejected(body, [](std::string_view b) {
    std::string from;
    return DecodeProbe(b, &from);
  });
  ExpectTruncationsAndExtensionRejected(reply, [](std::string_view p) {
    std::string id;
    uint64_t generation;
    return DecodeProbeReply(p, &id, &generation);
  });
  ExpectTruncationsAndExtensionRejected(request, [](std::string_view b) {
    ring::NodeInfo target;
    return DecodeProbeRequest(b, &target) && target.id == "n3";
  });
}

TEST(ClusterMessages, TheMembersFileHoldsTheStatesOfTheOtherMembers) {
  std::string bytes;
  EncodeMembersFile({StateN2()}, &bytes);
  EXPECT_EQ("4b 56 4d 42 01 01 " + std::string(kStateN2) + " 61 4a 50 33", Hex(bytes));
  auto back = DecodeMembersFile(bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(std::vector<MemberState>{StateN2()}, *back);
  std::string flipped = bytes;
  flipped[8] ^= 1;
  EXPECT_NE(DecodeMembersFile(flipped).status().message().find("checksum"), std::string::npos);
}

TEST(ClusterMessages, ReplicaReadRequestIsTheKey) {
  std::string body;
  base::PutLengthPrefixed(&body, "apple");  // as Coordinator::Get sends it
  EXPECT_EQ("05 61 70 70 6c 65", Hex(body));
  std::string_view key;
  ASSERT_TRUE(DecodeReplicaReadRequest(body, &key));
  EXPECT_EQ("apple", key);
  ExpectTruncationsAndExtensionRejected(body, [](std::string_view b) {
    std::string_view k;
    return DecodeReplicaReadRequest(b, &k);
  });
}

TEST(ClusterMessages, ReplicaReadReplyWithASetCarriesTheStoredValue) {
  const SiblingSet set = RedSet();
  std::string payload;
  EncodeReplicaReadReply(&payload, &set);
  EXPECT_EQ("01 1b " + std::string(kRedSet), Hex(payload));
  bool found = false;
  SiblingSet back;
  ASSERT_TRUE(DecodeReplicaReadReply(payload, &found, &back).ok());
  EXPECT_TRUE(found);
  EXPECT_EQ(set, back);
  ExpectTruncationsAndExtensionRejected(payload, [](std::string_view p) {
    bool f;
    SiblingSet s;
    return DecodeReplicaReadReply(p, &f, &s).ok();
  });
}

TEST(ClusterMessages, ReplicaReadReplyNotFoundIsOneZeroByte) {
  std::string payload;
  EncodeReplicaReadReply(&payload, nullptr);
  EXPECT_EQ("00", Hex(payload));
  bool found = true;
  SiblingSet back;
  ASSERT_TRUE(DecodeReplicaReadReply(payload, &found, &back).ok());
  EXPECT_FALSE(found);
  ExpectTruncationsAndExtensionRejected(payload, [](std::string_view p) {
    bool f;
    SiblingSet s;
    return DecodeReplicaReadReply(p, &f, &s).ok();
  });
  std::string bad_flag = "\x02";
  EXPECT_TRUE(DecodeReplicaReadReply(bad_flag, &found, &back).IsCorruption());
}

TEST(ClusterMessages, ReplicaWriteRequestIsTheKeyAndTheSet) {
  const SiblingSet set = RedSet();
  std::string body;
  EncodeReplicaWrite(&body, "apple", set);
  EXPECT_EQ("05 61 70 70 6c 65 1b " + std::string(kRedSet), Hex(body));
  std::string_view key;
  SiblingSet back;
  ASSERT_TRUE(DecodeReplicaWrite(body, &key, &back).ok());
  EXPECT_EQ("apple", key);
  EXPECT_EQ(set, back);
  ExpectTruncationsAndExtensionRejected(body, [](std::string_view b) {
    std::string_view k;
    SiblingSet s;
    return DecodeReplicaWrite(b, &k, &s).ok();
  });
}

TEST(ClusterMessages, HintedWriteIsTheOwnerThenAReplicaWrite) {
  const SiblingSet set = RedSet();
  std::string replica_write, body;
  EncodeReplicaWrite(&replica_write, "apple", set);
  EncodeHintedWrite(&body, "n3", replica_write);
  EXPECT_EQ("02 6e 33 05 61 70 70 6c 65 1b " + std::string(kRedSet), Hex(body));
  std::string_view owner, key;
  SiblingSet back;
  ASSERT_TRUE(DecodeHintedWrite(body, &owner, &key, &back).ok());
  EXPECT_EQ("n3", owner);
  EXPECT_EQ("apple", key);
  EXPECT_EQ(set, back);
  ExpectTruncationsAndExtensionRejected(body, [](std::string_view b) {
    std::string_view o, k;
    SiblingSet s;
    return DecodeHintedWrite(b, &o, &k, &s).ok();
  });
}

TEST(ClusterMessages, ForwardWriteRequestCarriesKindLevelFlagsKeyValueAndContext) {
  // `put apple green` at W=QUORUM with OVERWRITE and the context of a get of RedSet().
  const std::string context = EncodeClientContext(ContextKey::Default(), "apple", RedSet().history());
  const ForwardWrite put{WriteKind::kPut, 254, 0x01, "apple", "green", context};
  std::string body;
  EncodeForwardWrite(&body, put);
  EXPECT_EQ("00 fe 01 05 61 70 70 6c 65 05 67 72 65 65 6e 1b "
            "02 01 02 6e 31 01 80 e2 cf aa 06 88 d7 72 7b df 2b 71 70 9c 71 9e 58 79 40 4d 57",
            Hex(body));
  ForwardWrite back;
  ASSERT_TRUE(DecodeForwardWrite(body, &back));
  EXPECT_EQ(WriteKind::kPut, back.kind);
  EXPECT_EQ(254, back.consistency);
  EXPECT_EQ(0x01, back.flags);
  EXPECT_EQ("apple", back.key);
  EXPECT_EQ("green", back.value);
  EXPECT_EQ(context, back.context);
  ExpectTruncationsAndExtensionRejected(body, [](std::string_view b) {
    ForwardWrite m;
    return DecodeForwardWrite(b, &m);
  });
  // A delete: kind 1, an empty value, no flags.
  body.clear();
  EncodeForwardWrite(&body, ForwardWrite{WriteKind::kDelete, 254, 0, "apple", "", context});
  EXPECT_EQ("01 fe 00 05 61 70 70 6c 65 00 1b "
            "02 01 02 6e 31 01 80 e2 cf aa 06 88 d7 72 7b df 2b 71 70 9c 71 9e 58 79 40 4d 57", Hex(body));
  body[0] = 2;  // no such kind
  EXPECT_FALSE(DecodeForwardWrite(body, &back));
}

TEST(ClusterMessages, RingReplyDescribesEachMemberWithItsShares) {
  // What node_service.cc answers for the ring of n1 alone.
  auto holder = ring::RingHolder::Create({N1()});
  ASSERT_TRUE(holder.ok());
  const auto ring = (*holder)->Current();
  const ring::OwnershipReport report = ring::ComputeOwnership(*ring);
  RingDescription desc;
  desc.version = ring->version();
  desc.fingerprint = ring->Fingerprint();
  desc.replication = ring->replication().ToString();
  for (size_t i = 0; i < ring->nodes().size(); ++i) {
    desc.members.push_back(
        {ring->nodes()[i], report.nodes[i].vnodes, report.nodes[i].replica, report.nodes[i].primary});
  }
  std::string payload;
  EncodeRingDescription(&payload, desc);
  EXPECT_EQ("5c c5 d2 f7 56 70 42 2c 01 01 33 01 " + std::string(kMemberN1) +
                " 80 02 00 00 00 00 00 00 f0 3f 00 00 00 00 00 00 f0 3f",
            Hex(payload));
  RingDescription back;
  ASSERT_TRUE(DecodeRingDescription(payload, &back));
  EXPECT_EQ(ring->Fingerprint(), back.fingerprint);
  EXPECT_EQ(1u, back.version);
  EXPECT_EQ("3", back.replication);
  ASSERT_EQ(1u, back.members.size());
  EXPECT_EQ(N1(), back.members[0].node);
  EXPECT_EQ(256u, back.members[0].vnodes);
  EXPECT_EQ(1.0, back.members[0].replica_share);
  EXPECT_EQ(1.0, back.members[0].primary_share);
  ExpectTruncationsAndExtensionRejected(payload, [](std::string_view p) {
    RingDescription d;
    return DecodeRingDescription(p, &d);
  });
}

TEST(ClusterMessages, ClusterStatusReplyGivesEachMembersStateAndHowTheAnswererSeesIt) {
  // n1 answering about itself and about n2, which it suspects (and n3 does too).
  MemberReport self, other;
  self.state = StateN1();
  self.self = true;
  other.state = StateN2();
  other.liveness = Liveness::kSuspect;
  other.heartbeat_age_ms = 1200;
  other.suspected_by = {"n3"};
  other.detail = "no heartbeat or probe reply for 1200ms";
  std::string payload;
  EncodeClusterStatus(&payload, {self, other});
  EXPECT_EQ("02 " + std::string(kStateN1) + " 00 01 00 00 00 00 " + kStateN2 +
                " 01 00 b0 09 01 02 6e 33 00 26 6e 6f 20 68 65 61 72 74 62 65 61 74 20 6f 72 20 70 72 6f 62 65 20 72 "
                "65 70 6c 79 20 66 6f 72 20 31 32 30 30 6d 73",
            Hex(payload));
  std::vector<MemberReport> back;
  ASSERT_TRUE(DecodeClusterStatus(payload, &back));
  ASSERT_EQ(2u, back.size());
  EXPECT_TRUE(back[0].self);
  EXPECT_EQ(StateN1(), back[0].state);
  EXPECT_EQ(Liveness::kSuspect, back[1].liveness);
  EXPECT_EQ(1200u, back[1].heartbeat_age_ms);
  EXPECT_EQ(std::vector<std::string>{"n3"}, back[1].suspected_by);
  EXPECT_EQ(other.detail, back[1].detail);
  ExpectTruncationsAndExtensionRejected(payload, [](std::string_view p) {
    std::vector<MemberReport> m;
    return DecodeClusterStatus(p, &m);
  });
  std::string bad_liveness = payload;
  bad_liveness[1 + 37] = 3;  // n1's liveness byte: only 0, 1 and 2 exist
  EXPECT_FALSE(DecodeClusterStatus(bad_liveness, &back));
}

}  // namespace
}  // namespace kvring::repl
