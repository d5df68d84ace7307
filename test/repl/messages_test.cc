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
#include "repl/value_format.h"
#include "ring/membership_view.h"
#include "ring/ownership.h"

namespace kvring::repl {
namespace {

std::string Hex(std::string_view bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    if (!out.empty()) out += ' ';
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

// 2023-11-14 22:13:20 UTC, as in docs/protocol.md section 11.
constexpr uint64_t kWriteTime = 1'700'000'000'000'000ull;

ring::NodeInfo N1() { return {"n1", "10.0.0.1:7000", "dc1", "rack1", 1.0}; }
ring::NodeInfo N2() { return {"n2", "10.0.0.2:7000", "dc1", "rack2", 1.5}; }

// Key `apple` as n1 stores it after `put apple red` from nothing.
SiblingSet RedSet() {
  SiblingSet set;
  base::Result<WriteOutcome> out = set.Put("n1", VersionVector(), "red", kWriteTime, VersioningOptions());
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  return set;
}

const char kMemberN1[] = "02 6e 31 0d 31 30 2e 30 2e 30 2e 31 3a 37 30 30 30 03 64 63 31 05 72 61 63 6b 31 e8 07";
const char kMemberN2[] = "02 6e 32 0d 31 30 2e 30 2e 30 2e 32 3a 37 30 30 30 03 64 63 31 05 72 61 63 6b 32 dc 0b";
// The stored value of RedSet() (docs/formats/value.md), 27 bytes.
const char kRedSet[] = "01 01 02 6e 31 01 80 e2 cf aa 06 01 00 00 00 00 40 1e 18 24 0a 06 00 03 72 65 64";

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

// MEMBER_INFO's request as node/node_service.cc reads it: one member, nothing after.
bool DecodeMemberInfoRequest(std::string_view body, ring::NodeInfo* node) {
  return DecodeMember(&body, node) && body.empty();
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

TEST(ClusterMessages, MemberInfoRequestIsTheCallersMember) {
  std::string body;
  EncodeMember(&body, N1());
  EXPECT_EQ(kMemberN1, Hex(body));
  ring::NodeInfo back;
  ASSERT_TRUE(DecodeMemberInfoRequest(body, &back));
  EXPECT_EQ(N1(), back);
  ExpectTruncationsAndExtensionRejected(body, [](std::string_view b) {
    ring::NodeInfo n;
    return DecodeMemberInfoRequest(b, &n);
  });
}

TEST(ClusterMessages, MemberInfoReplyListsTheKnownMembers) {
  std::string payload;
  EncodeMemberList(&payload, {N1(), N2()});
  EXPECT_EQ("02 " + std::string(kMemberN1) + " " + kMemberN2, Hex(payload));
  std::vector<ring::NodeInfo> back;
  ASSERT_TRUE(DecodeMemberList(payload, &back));
  EXPECT_EQ((std::vector<ring::NodeInfo>{N1(), N2()}), back);
  ExpectTruncationsAndExtensionRejected(payload, [](std::string_view p) {
    std::vector<ring::NodeInfo> nodes;
    return DecodeMemberList(p, &nodes);
  });
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

TEST(ClusterMessages, ForwardWriteRequestCarriesKindLevelFlagsKeyValueAndContext) {
  // `put apple green` at W=QUORUM with OVERWRITE and the context of a get of RedSet().
  const std::string context = EncodeClientContext(RedSet().history());
  const ForwardWrite put{WriteKind::kPut, 254, 0x01, "apple", "green", context};
  std::string body;
  EncodeForwardWrite(&body, put);
  EXPECT_EQ("00 fe 01 05 61 70 70 6c 65 05 67 72 65 65 6e 0f 01 01 02 6e 31 01 80 e2 cf aa 06 47 64 b3 53",
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
  EXPECT_EQ("01 fe 00 05 61 70 70 6c 65 00 0f 01 01 02 6e 31 01 80 e2 cf aa 06 47 64 b3 53", Hex(body));
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
  desc.replication = ring->replication().ToString();
  for (size_t i = 0; i < ring->nodes().size(); ++i) {
    desc.members.push_back(
        {ring->nodes()[i], report.nodes[i].vnodes, report.nodes[i].replica, report.nodes[i].primary});
  }
  std::string payload;
  EncodeRingDescription(&payload, desc);
  EXPECT_EQ("01 01 33 01 " + std::string(kMemberN1) + " 80 02 00 00 00 00 00 00 f0 3f 00 00 00 00 00 00 f0 3f",
            Hex(payload));
  RingDescription back;
  ASSERT_TRUE(DecodeRingDescription(payload, &back));
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

TEST(ClusterMessages, ClusterStatusReplyGivesEachMembersState) {
  // n1 answering about itself (its own load) and about n2, which is up.
  const std::vector<MemberStatus> members = {{N1(), MemberState::kSelf, "sstable bytes 0, memtable bytes 0"},
                                             {N2(), MemberState::kUp, ""}};
  std::string payload;
  EncodeClusterStatus(&payload, members);
  EXPECT_EQ("02 " + std::string(kMemberN1) +
                " 02 21 73 73 74 61 62 6c 65 20 62 79 74 65 73 20 30 2c 20 6d 65 6d 74 61 62 6c 65 20 62 79 74 65 73 "
                "20 30 " +
                kMemberN2 + " 00 00",
            Hex(payload));
  std::vector<MemberStatus> back;
  ASSERT_TRUE(DecodeClusterStatus(payload, &back));
  ASSERT_EQ(2u, back.size());
  EXPECT_EQ(N1(), back[0].node);
  EXPECT_EQ(MemberState::kSelf, back[0].state);
  EXPECT_EQ("sstable bytes 0, memtable bytes 0", back[0].detail);
  EXPECT_EQ(N2(), back[1].node);
  EXPECT_EQ(MemberState::kUp, back[1].state);
  ExpectTruncationsAndExtensionRejected(payload, [](std::string_view p) {
    std::vector<MemberStatus> m;
    return DecodeClusterStatus(p, &m);
  });
  std::string bad_state = payload;
  bad_state[30] = 3;  // n1's state byte: only 0, 1 and 2 exist
  EXPECT_FALSE(DecodeClusterStatus(bad_state, &back));
}

}  // namespace
}  // namespace kvring::repl
