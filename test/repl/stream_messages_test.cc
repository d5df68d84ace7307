// Golden bytes of range streaming and the membership operations
// (repl/stream_messages.h, docs/protocol.md 9.3) and of DATA/membership_op
// (repl/membership_ops.h, docs/formats/membership_op.md): each pinned as hex,
// decoded back, and refused when truncated anywhere, extended by a byte, or
// carrying a kind or state no build knows. (Some from branch streamdocs.)
#include "repl/stream_messages.h"

#include <gtest/gtest.h>

#include <string>

#include "base/env.h"
#include "base/fault_env.h"
#include "base/sealed_file.h"
#include "repl/membership_ops.h"
#include "test/repl/repl_test_util.h"
#include "test/util/test_util.h"

namespace kvring::repl {
namespace {

using test::Hex;

StreamReadRequest Read() { return {{0x10, 0x20}, "apple", 1u << 20}; }

StreamBatch Batch() { return {{{"apple", "set-bytes"}}, true}; }

StreamProgress Stream() { return {{0x10, 0x20}, "n2", "n4", 3, 120, 0, true}; }

MembershipProgress JoinProgress() {
  return {OperationKind::kJoin, "", OperationState::kStreaming, "", 1000, 2000, {Stream()}};
}

PersistedOperation JoinOp() {
  return {OperationKind::kJoin, "", OperationState::kStreaming, 1000, {{Stream(), {"n2", "n3"}, "pear"}}};
}

const char kRead[] = "10 00 00 00 00 00 00 00 20 00 00 00 00 00 00 00 05 61 70 70 6c 65 80 80 40";
const char kBatch[] = "01 01 05 61 70 70 6c 65 09 73 65 74 2d 62 79 74 65 73";
const char kRemoveN3[] = "03 02 6e 33";
const char kStream[] = "10 00 00 00 00 00 00 00 20 00 00 00 00 00 00 00 02 6e 32 02 6e 34 03 78 00 01";
const char kProgress[] = "01 00 02 00 e8 07 d0 0f 01 10 00 00 00 00 00 00 00 20 00 00 00 00 00 00 00 02 6e 32 "
                         "02 6e 34 03 78 00 01";
const char kOpFile[] = "4b 56 4f 50 01 01 00 02 e8 07 01 10 00 00 00 00 00 00 00 20 00 00 00 00 00 00 00 02 6e "
                       "32 02 6e 34 03 78 00 01 04 70 65 61 72 02 02 6e 32 02 6e 33 c8 c0 36 5b";

TEST(StreamMessages, StreamReadIsTheRangeTheKeyAfterWhichToGoOnAndABudget) {
  std::string body;
  EncodeStreamRead(&body, Read());
  EXPECT_EQ(kRead, Hex(body));
  testing::ExpectCorruptWhenCutOrExtended(body, [](std::string_view b) {
    StreamReadRequest r;
    base::Status s = DecodeStreamRead(b, &r);
    if (s.ok() && !(r == Read())) return base::Status::Corruption("decoded another request");
    return s;
  });
  StreamReadRequest zero = Read();
  zero.max_bytes = 0;
  body.clear();
  EncodeStreamRead(&body, zero);
  StreamReadRequest r;
  EXPECT_EQ("Corruption: STREAM_READ request: max_bytes 0", DecodeStreamRead(body, &r).ToString());
}

TEST(StreamMessages, AStreamBatchIsWhetherMoreFollowsAndEachKeyWithItsStoredSet) {
  std::string payload;
  EncodeStreamBatch(&payload, Batch());
  EXPECT_EQ(kBatch, Hex(payload));
  EXPECT_EQ(14u, Batch().bytes());  // "apple" + "set-bytes"
  testing::ExpectCorruptWhenCutOrExtended(payload, [](std::string_view p) {
    StreamBatch b;
    base::Status s = DecodeStreamBatch(p, &b);
    if (s.ok() && !(b == Batch())) return base::Status::Corruption("decoded another batch");
    return s;
  });
  std::string bad_more = payload;
  bad_more[0] = 2;
  StreamBatch b;
  EXPECT_TRUE(DecodeStreamBatch(bad_more, &b).IsCorruption());
  const std::string empty_key("\x00\x01\x00\x01x", 5);  // more 0, one entry, key "" (refused)
  EXPECT_EQ("Corruption: STREAM_READ reply: malformed entry 1 of 1", DecodeStreamBatch(empty_key, &b).ToString());
}

TEST(StreamMessages, AMembershipChangeIsItsKindAndTarget) {
  std::string body;
  EncodeMembershipChange(&body, OperationKind::kRemoveNode, "n3");
  EXPECT_EQ(kRemoveN3, Hex(body));
  testing::ExpectCorruptWhenCutOrExtended(body, [](std::string_view b) {
    OperationKind kind;
    std::string target;
    base::Status s = DecodeMembershipChange(b, &kind, &target);
    if (s.ok() && (kind != OperationKind::kRemoveNode || target != "n3")) return base::Status::Corruption("other");
    return s;
  });
  OperationKind kind;
  std::string target;
  body.clear();
  EncodeMembershipChange(&body, OperationKind::kReplace, "n3");
  EXPECT_TRUE(DecodeMembershipChange(body, &kind, &target).IsInvalidArgument()) << "replace is a kvnode flag";
  body.clear();
  EncodeMembershipChange(&body, OperationKind::kRemoveNode, "");
  EXPECT_EQ("InvalidArgument: MEMBERSHIP_CHANGE: removenode needs the id of the member to remove",
            DecodeMembershipChange(body, &kind, &target).ToString());
  EXPECT_TRUE(DecodeMembershipChange("\x07\x00", &kind, &target).IsCorruption()) << "kind 7 does not exist";
}

TEST(StreamMessages, MembershipProgressIsTheOperationThenEachStream) {
  std::string s;
  EncodeStreamProgress(&s, Stream());
  EXPECT_EQ(kStream, Hex(s));
  std::string payload;
  EncodeMembershipProgress(&payload, JoinProgress());
  EXPECT_EQ(kProgress, Hex(payload));
  testing::ExpectCorruptWhenCutOrExtended(payload, [](std::string_view p) {
    MembershipProgress got;
    base::Status st = DecodeMembershipProgress(p, &got);
    if (st.ok() && !(got == JoinProgress())) return base::Status::Corruption("decoded another progress");
    return st;
  });
  std::string bad_state = payload;
  bad_state[2] = 5;  // states end at 4 (failed)
  MembershipProgress got;
  EXPECT_TRUE(DecodeMembershipProgress(bad_state, &got).IsCorruption());
  // The smallest stream (empty ids, zero counts: 22 bytes) is accepted too.
  MembershipProgress smallest{OperationKind::kJoin, "", OperationState::kStreaming, "", 0, 0, {StreamProgress{}}};
  std::string small;
  EncodeMembershipProgress(&small, smallest);
  EXPECT_TRUE(DecodeMembershipProgress(small, &got).ok());
  EXPECT_EQ(120u, JoinProgress().bytes());
  EXPECT_EQ(3u, JoinProgress().keys());
  EXPECT_EQ(1u, JoinProgress().streams_done());
}

TEST(MembershipOpFile, TheOperationAndEveryStreamWithItsSourcesAndLastKeyRoundTripSealed) {
  std::string bytes;
  EncodeMembershipOpFile(JoinOp(), &bytes);
  EXPECT_EQ(kOpFile, Hex(bytes));
  auto back = DecodeMembershipOpFile(bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(JoinOp(), *back);
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(DecodeMembershipOpFile(bytes.substr(0, n)).ok()) << "cut to " << n;
  }
  std::string flipped = bytes;
  flipped[10] ^= 0x01;
  EXPECT_EQ("Corruption: membership_op file: checksum mismatch", DecodeMembershipOpFile(flipped).status().ToString());
  std::string magic = bytes;
  magic[0] = 'X';
  EXPECT_EQ("Corruption: membership_op file: bad magic", DecodeMembershipOpFile(magic).status().ToString());
  std::string newer;
  base::SealFile("KVOP", kMembershipOpFileVersion + 1, "", &newer);
  EXPECT_EQ(base::Status::Code::kNotSupported, DecodeMembershipOpFile(newer).status().code());
  std::string zero;
  base::SealFile("KVOP", 0, "", &zero);
  EXPECT_EQ("Corruption: membership_op file: bad format version 0", DecodeMembershipOpFile(zero).status().ToString());
  std::string garbage;
  base::SealFile("KVOP", kMembershipOpFileVersion, "\x09", &garbage);  // kind 9
  EXPECT_TRUE(DecodeMembershipOpFile(garbage).status().IsCorruption());
}

TEST(MembershipOpFile, StartupStatusFollowsTheOperationThisNodeRuns) {
  PersistedOperation op = JoinOp();
  EXPECT_EQ(MemberStatus::kJoining, StartupStatus(op));
  op.state = OperationState::kDone;
  EXPECT_EQ(MemberStatus::kNormal, StartupStatus(op));
  op.kind = OperationKind::kDecommission;
  EXPECT_EQ(MemberStatus::kLeft, StartupStatus(op));
  op.state = OperationState::kAnnouncing;
  EXPECT_EQ(MemberStatus::kLeaving, StartupStatus(op));
  op.kind = OperationKind::kRemoveNode;  // speaks for another member: this one stays normal
  EXPECT_EQ(MemberStatus::kNormal, StartupStatus(op));
}

// (From branch streamdocs.)
TEST(StreamMessages, TheFirstStreamReadOfARangeHasNoKeyToGoOnAfterAndTheLastBatchIsEmpty) {
  StreamReadRequest first = Read();
  first.after.clear();
  std::string body;
  EncodeStreamRead(&body, first);
  EXPECT_EQ("10 00 00 00 00 00 00 00 20 00 00 00 00 00 00 00 00 80 80 40", Hex(body));
  testing::ExpectCorruptWhenCutOrExtended(body, [&](std::string_view b) {
    StreamReadRequest r;
    base::Status s = DecodeStreamRead(b, &r);
    if (s.ok() && !(r == first)) return base::Status::Corruption("decoded another request");
    return s;
  });
  std::string last;
  EncodeStreamBatch(&last, StreamBatch());
  EXPECT_EQ("00 00", Hex(last));
  StreamBatch decoded = Batch();
  ASSERT_TRUE(DecodeStreamBatch(last, &decoded).ok());
  EXPECT_FALSE(decoded.more);
  EXPECT_TRUE(decoded.entries.empty());
}

// (From branch streamdocs.)
TEST(StreamMessages, AMembershipChangeOfItselfHasNoTargetAndNoneOrAnEmptyWeightIsRefused) {
  std::string join, decommission;
  EncodeMembershipChange(&join, OperationKind::kJoin, "");
  EncodeMembershipChange(&decommission, OperationKind::kDecommission, "");
  EXPECT_EQ("01 00", Hex(join));
  EXPECT_EQ("02 00", Hex(decommission));
  OperationKind kind = OperationKind::kNone;
  std::string target = "stale";
  ASSERT_TRUE(DecodeMembershipChange(decommission, &kind, &target).ok());
  EXPECT_EQ(OperationKind::kDecommission, kind);
  EXPECT_EQ("", target);
  testing::ExpectCorruptWhenCutOrExtended(join, [](std::string_view b) {
    OperationKind k;
    std::string t;
    return DecodeMembershipChange(b, &k, &t);
  });
  EXPECT_EQ("InvalidArgument: MEMBERSHIP_CHANGE: none is not asked for by message (replace: start the new node "
            "with --replace ID)",
            DecodeMembershipChange(std::string("\x00\x00", 2), &kind, &target).ToString());
  EXPECT_EQ("InvalidArgument: MEMBERSHIP_CHANGE: set-weight needs the new weight",
            DecodeMembershipChange(std::string("\x06\x00", 2), &kind, &target).ToString());
}

// (From branch streamdocs.)
TEST(StreamMessages, MembershipProgressRefusesABadKindAndDoneByteAndTheEmptyOneIsSevenZeros) {
  std::string good;
  EncodeMembershipProgress(&good, JoinProgress());
  std::string bad_kind = good;
  bad_kind[0] = 7;  // kinds end at 6 (set-weight)
  MembershipProgress got;
  EXPECT_EQ("Corruption: membership progress: truncated or bad header",
            DecodeMembershipProgress(bad_kind, &got).ToString());
  std::string bad_done = good;
  bad_done.back() = 2;
  EXPECT_EQ("Corruption: membership progress: malformed stream 1 of 1",
            DecodeMembershipProgress(bad_done, &got).ToString());
  std::string none;
  EncodeMembershipProgress(&none, MembershipProgress());
  EXPECT_EQ("00 00 00 00 00 00 00", Hex(none));
  testing::ExpectCorruptWhenCutOrExtended(none, [](std::string_view p) {
    MembershipProgress m;
    return DecodeMembershipProgress(p, &m);
  });
}

// The body of JoinOp's file: without the magic, the version and the checksum.
std::string JoinOpBody() {
  std::string bytes;
  EncodeMembershipOpFile(JoinOp(), &bytes);
  return bytes.substr(5, bytes.size() - 9);
}

// (From branch streamdocs.)
TEST(MembershipOpFile, ACutOrExtendedBodyUnderAGoodChecksumIsMalformedAndANewerVersionNamesBoth) {
  const std::string body = JoinOpBody();
  for (const std::string& bad : {body.substr(0, body.size() - 1), body + '\0'}) {
    std::string sealed;
    base::SealFile("KVOP", kMembershipOpFileVersion, bad, &sealed);
    EXPECT_EQ("Corruption: membership_op file: malformed operation or stream",
              DecodeMembershipOpFile(sealed).status().ToString());
  }
  std::string newer;
  base::SealFile("KVOP", kMembershipOpFileVersion + 1, body, &newer);
  EXPECT_EQ("membership_op file: format version 2 is newer than this build reads (1)",
            DecodeMembershipOpFile(newer).status().message());
}

// (From branch streamdocs.)
TEST(MembershipOpFile, LoadFindsNoOperationWithoutAFileAndNamesTheDamagedOne) {
  base::FaultEnv env;
  ASSERT_TRUE(env.CreateDir("/d").ok());
  base::Result<PersistedOperation> none = LoadMembershipOp(&env, "/d/membership_op");
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_EQ(OperationKind::kNone, none->kind);
  std::string bytes;
  EncodeMembershipOpFile(JoinOp(), &bytes);
  ASSERT_TRUE(base::WriteStringToFileAtomic(&env, bytes, "/d/membership_op").ok());
  base::Result<PersistedOperation> loaded = LoadMembershipOp(&env, "/d/membership_op");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(JoinOp(), *loaded);
  ASSERT_TRUE(base::WriteStringToFileAtomic(&env, "KVOP", "/d/membership_op").ok());
  base::Status s = LoadMembershipOp(&env, "/d/membership_op").status();
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(std::string::npos, s.message().find("/d/membership_op")) << s.ToString();
  EXPECT_NE(std::string::npos, s.message().find("membership_op file: ")) << s.ToString();
}

}  // namespace
}  // namespace kvring::repl
