// Golden bytes of the anti-entropy and repair messages (repl/aae_messages.h,
// docs/protocol.md section 9 "Anti-entropy"): each pinned as hex, decoded back,
// rejected when truncated anywhere or extended by a byte, and bad input answered
// with a Corruption that names the message and the entry.
#include "repl/aae_messages.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "repl/value_format.h"
#include "test/repl/repl_test_util.h"
#include "test/util/test_util.h"

namespace kvring::repl {
namespace {

using test::Hex;
using testing::kRedSet;
using testing::RedSet;




TEST(AaeMessages, RangeHashesAreTheIntervalTheHashAndTheKeyCountOfEachRange) {
  const std::vector<RangeHashEntry> ranges = {{{0x0100000000000000ull, 0x0200000000000000ull}, 0x1122334455667788ull, 300},
                                              {{0xff00000000000001ull, 0}, 0, 0}};
  std::string body;
  EncodeRangeHashes(&body, ranges);
  EXPECT_EQ(
      "02 "
      "00 00 00 00 00 00 00 01 00 00 00 00 00 00 00 02 88 77 66 55 44 33 22 11 ac 02 "
      "01 00 00 00 00 00 00 ff 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00",
      Hex(body));
  std::vector<RangeHashEntry> decoded;
  ASSERT_TRUE(DecodeRangeHashes(body, &decoded).ok());
  EXPECT_EQ(ranges, decoded);
  testing::ExpectCorruptWhenCutOrExtended(body, [](std::string_view b) {
    std::vector<RangeHashEntry> d;
    return DecodeRangeHashes(b, &d);
  });
}

TEST(AaeMessages, TheRangeHashesReplyListsTheIndexesThatDiffer) {
  std::string payload;
  EncodeDifferingRanges(&payload, {1, 200});
  EXPECT_EQ("02 01 c8 01", Hex(payload));
  std::vector<uint32_t> decoded;
  ASSERT_TRUE(DecodeDifferingRanges(payload, 201, &decoded).ok());
  EXPECT_EQ((std::vector<uint32_t>{1, 200}), decoded);
  base::Status s = DecodeDifferingRanges(payload, 200, &decoded);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_EQ("AAE_RANGE_HASHES reply: malformed index 2 of 2: 200 is past the 200 ranges asked about", s.message());
}

TEST(AaeMessages, LeafHashesAnswerAnIntervalWithEachLeafInIt) {
  std::string body;
  EncodeInterval(&body, {0x0100000000000000ull, 0x0100010000000000ull});
  EXPECT_EQ("00 00 00 00 00 00 00 01 00 00 00 00 00 01 00 01", Hex(body));
  PrefixInterval interval;
  ASSERT_TRUE(DecodeInterval(body, "AAE_LEAF_HASHES request", &interval).ok());
  EXPECT_EQ((PrefixInterval{0x0100000000000000ull, 0x0100010000000000ull}), interval);
  const std::vector<LeafHash> leaves = {{0x0100000000000000ull, 0x0100010000000000ull, 0xabcdefull, 15}};
  std::string payload;
  EncodeLeafHashes(&payload, leaves);
  EXPECT_EQ("01 00 00 00 00 00 00 00 01 00 00 00 00 00 01 00 01 ef cd ab 00 00 00 00 00 0f", Hex(payload));
  std::vector<LeafHash> decoded;
  ASSERT_TRUE(DecodeLeafHashes(payload, &decoded).ok());
  EXPECT_EQ(leaves, decoded);
  testing::ExpectCorruptWhenCutOrExtended(payload, [](std::string_view p) {
    std::vector<LeafHash> d;
    return DecodeLeafHashes(p, &d);
  });
}

TEST(AaeMessages, KeyDigestsAreEachKeyAndItsDigest) {
  const std::vector<KeyDigestEntry> entries = {{"apple", 0x0102030405060708ull}};
  std::string payload;
  EncodeKeyDigests(&payload, entries);
  EXPECT_EQ("01 05 61 70 70 6c 65 08 07 06 05 04 03 02 01", Hex(payload));
  std::vector<KeyDigestEntry> decoded;
  ASSERT_TRUE(DecodeKeyDigests(payload, &decoded).ok());
  EXPECT_EQ(entries, decoded);
  testing::ExpectCorruptWhenCutOrExtended(payload, [](std::string_view p) {
    std::vector<KeyDigestEntry> d;
    return DecodeKeyDigests(p, &d);
  });
}

TEST(AaeMessages, SyncSendsEachKeyWithItsSetOrNoneAndTheReplyAnswersEach) {
  std::string body;
  EncodeSync(&body, {{"apple", RedSet()}, {"pear", std::nullopt}});
  EXPECT_EQ("02 05 61 70 70 6c 65 01 1b " + std::string(kRedSet) + " 04 70 65 61 72 00", Hex(body));
  std::vector<SyncEntry> decoded;
  ASSERT_TRUE(DecodeSync(body, &decoded).ok());
  ASSERT_EQ(2u, decoded.size());
  EXPECT_EQ("apple", decoded[0].key);
  EXPECT_EQ(RedSet(), *decoded[0].set);
  EXPECT_FALSE(decoded[1].set);
  testing::ExpectCorruptWhenCutOrExtended(body, [](std::string_view b) {
    std::vector<SyncEntry> d;
    return DecodeSync(b, &d);
  });
  std::string payload;
  EncodeSyncReply(&payload, {std::nullopt, RedSet()});
  EXPECT_EQ("02 00 01 1b " + std::string(kRedSet), Hex(payload));
  std::vector<std::optional<SiblingSet>> answers;
  ASSERT_TRUE(DecodeSyncReply(payload, 2, &answers).ok());
  EXPECT_FALSE(answers[0]);
  EXPECT_EQ(RedSet(), *answers[1]);
  testing::ExpectCorruptWhenCutOrExtended(payload, [](std::string_view p) {
    std::vector<std::optional<SiblingSet>> a;
    return DecodeSyncReply(p, 2, &a);
  });
  base::Status s = DecodeSyncReply(payload, 3, &answers);
  EXPECT_EQ("AAE_SYNC reply: 2 answers to 3 keys", s.message());
}

TEST(AaeMessages, ADamagedSetInASyncIsRefusedNamingTheKey) {
  std::string body;
  EncodeSync(&body, {{"apple", RedSet()}});
  body[9] = 7;  // the set's format version byte
  std::vector<SyncEntry> decoded;
  base::Status s = DecodeSync(body, &decoded);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(std::string::npos, s.message().find("AAE_SYNC request: malformed entry 1 of 1 (key 'apple')")) << s.message();
}

TEST(AaeMessages, ACountLargerThanTheBytesThatFollowIsRefusedBeforeAnythingIsReserved) {
  std::string body = "\xff\xff\xff\xff\x0f";
  std::vector<LeafHash> leaves;
  base::Status s = DecodeLeafHashes(body, &leaves);
  EXPECT_EQ("AAE_LEAF_HASHES reply: count 4294967295 exceeds the 0 bytes that follow", s.message());
}

TEST(AaeMessages, RepairRequestAndProgress) {
  std::string body;
  EncodeRepairRequest(&body, {"n2", PrefixInterval{1, 0}});
  EXPECT_EQ("02 6e 32 01 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00", Hex(body));
  RepairRequest request;
  ASSERT_TRUE(DecodeRepairRequest(body, &request).ok());
  EXPECT_EQ("n2", request.peer);
  EXPECT_EQ((PrefixInterval{1, 0}), *request.range);
  testing::ExpectCorruptWhenCutOrExtended(body, [](std::string_view b) {
    RepairRequest r;
    return DecodeRepairRequest(b, &r);
  });
  RepairProgress p;
  p.state = RepairState::kRunning;
  p.job = 3;
  p.ranges_total = 768;
  p.ranges_done = 300;
  p.keys_received = 1000;
  p.bytes_received = 200000;
  p.elapsed_us = 1500000;
  p.detail = "n3: hints pending";
  std::string payload;
  EncodeRepairProgress(&payload, p);
  EXPECT_EQ("01 03 80 06 ac 02 00 00 00 e8 07 00 c0 9a 0c 00 e0 c6 5b 11 6e 33 3a 20 68 69 6e 74 73 20 70 65 6e 64 69 "
            "6e 67 00 00 00",
            Hex(payload));
  RepairProgress decoded;
  ASSERT_TRUE(DecodeRepairProgress(payload, &decoded).ok());
  EXPECT_EQ(p, decoded);
  testing::ExpectCorruptWhenCutOrExtended(payload, [](std::string_view b) {
    RepairProgress r;
    return DecodeRepairProgress(b, &r);
  });
}

}  // namespace
}  // namespace kvring::repl
