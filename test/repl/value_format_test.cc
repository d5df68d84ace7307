#include "repl/value_format.h"

#include <gtest/gtest.h>

#include "base/random.h"
#include "test/repl/repl_test_util.h"
#include "test/util/test_util.h"

namespace kvring::repl {
namespace {

using test::Hex;

using testing::D;
using testing::kT0;
using testing::VV;

std::string Unhex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 3) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

// docs/formats/value.md, "Worked example": one sibling, dot n1:3, the common
// context [n1:2 n2:5], value "hello".
SiblingSet WorkedExample() {
  VersionVector history;
  history.Witness("n1", 3, 1'700'000'000);
  history.Witness("n2", 5, 1'699'990'000);
  Sibling s{.dot = D("n1:3"), .context = VV("[n1:2 n2:5]"), .timestamp_micros = 1'700'000'000'123'456ull,
            .value = "hello"};
  base::Result<SiblingSet> set = SiblingSet::FromParts(history, {s});
  EXPECT_TRUE(set.ok()) << set.status().ToString();
  return *set;
}
constexpr std::string_view kWorkedExampleHex =
    "01 02 02 6e 31 03 80 e2 cf aa 06 02 6e 32 05 f0 93 cf aa 06 01 00 00 00 40 22 20 18 24 0a 06 00 05 68 65 6c "
    "6c 6f";

// docs/formats/value.md, "Second example": two writes through n1 with the same
// context [n1:2 n2:5], a delete (n1:3) and a put (n1:4): two siblings, the
// tombstone in the compact form, the put with a full context.
SiblingSet SecondExample() {
  VersionVector history;
  history.Witness("n1", 4, 1'700'000'100);
  history.Witness("n2", 5, 1'699'990'000);
  Sibling tombstone{.dot = D("n1:3"), .context = VV("[n1:2 n2:5]"), .timestamp_micros = 1'700'000'050'000'000ull,
                    .tombstone = true};
  Sibling put{.dot = D("n1:4"), .context = VV("[n1:2 n2:5]"), .timestamp_micros = 1'700'000'100'000'000ull,
              .value = "hi"};
  base::Result<SiblingSet> set = SiblingSet::FromParts(history, {tombstone, put});
  EXPECT_TRUE(set.ok()) << set.status().ToString();
  return *set;
}
constexpr std::string_view kSecondExampleHex =
    "01 02 02 6e 31 04 e4 e2 cf aa 06 02 6e 32 05 f0 93 cf aa 06 02 01 00 01 80 30 19 1b 24 0a 06 00 02 00 00 00 "
    "21 14 1e 24 0a 06 00 02 00 02 01 00 02 68 69";

TEST(ValueFormat, WorkedExampleEncodesToTheDocumentedBytes) {
  EXPECT_EQ(kWorkedExampleHex, Hex(EncodeSiblingSet(WorkedExample())));
  base::Result<SiblingSet> back = DecodeSiblingSet(Unhex(kWorkedExampleHex));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(WorkedExample(), *back);
}

TEST(ValueFormat, SecondExampleEncodesToTheDocumentedBytes) {
  EXPECT_EQ(kSecondExampleHex, Hex(EncodeSiblingSet(SecondExample())));
  base::Result<SiblingSet> back = DecodeSiblingSet(Unhex(kSecondExampleHex));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(SecondExample(), *back);
  EXPECT_TRUE(back->CheckInvariants().ok());
}

TEST(ValueFormat, TheSameWritesMadeThroughTheApiGiveTheSecondExample) {
  VersioningOptions options;
  SiblingSet set;
  ASSERT_TRUE(set.Put("n2", VersionVector(), "x", 1'699'990'000'000'000ull, options).ok());
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(set.Put("n2", set.history(), "x", 1'699'990'000'000'000ull, options).ok());
  ASSERT_TRUE(set.Put("n1", set.history(), "y", 1'699'999'000'000'000ull, options).ok());
  ASSERT_TRUE(set.Put("n1", set.history(), "z", 1'699'999'500'000'000ull, options).ok());
  VersionVector context;  // what two clients got from a get: [n1:2 n2:5], with times
  base::Result<WriteOutcome> del = set.Delete("n1", set.history(), 1'700'000'050'000'000ull, options);
  ASSERT_TRUE(del.ok());
  EXPECT_EQ(D("n1:3"), del->dot);
  context = set.siblings()[0].context;  // [n1:2 n2:5]
  ASSERT_EQ("[n1:2 n2:5]", VersionVectorText(context));
  base::Result<WriteOutcome> put = set.Put("n1", context, "hi", 1'700'000'100'000'000ull, options);
  ASSERT_TRUE(put.ok());
  EXPECT_EQ(D("n1:4"), put->dot);
  EXPECT_EQ(kSecondExampleHex, Hex(EncodeSiblingSet(set)));
}

TEST(ValueFormat, TheCommonCaseCostsUnder45BytesOverTheValue) {
  // Three coordinators have written the key; the last put carried a fresh context.
  SiblingSet set;
  testing::BlindPut(&set, "n1", "a", kT0);
  testing::BlindPut(&set, "n2", "b", kT0 + 1);
  testing::BlindPut(&set, "n3", "c", kT0 + 2);
  const std::string value(100, 'v');
  testing::MustPut(&set, "n1", set.history(), value, kT0 + 3);
  ASSERT_EQ(1u, set.siblings().size());
  ASSERT_EQ(3u, set.history().size());
  const std::string bytes = EncodeSiblingSet(set);
  EXPECT_LT(bytes.size(), value.size() + 45) << Hex(bytes);
  const size_t flags_offset = bytes.size() - value.size() - 1 - 8 - 2 - 1;
  EXPECT_EQ(0, bytes[flags_offset]) << "the sibling should use the compact context";
}

TEST(ValueFormat, EveryTruncationIsCorruption) {
  for (std::string_view hex : {kWorkedExampleHex, kSecondExampleHex}) {
    const std::string bytes = Unhex(hex);
    for (size_t n = 0; n < bytes.size(); ++n) {
      base::Result<SiblingSet> set = DecodeSiblingSet(std::string_view(bytes).substr(0, n));
      ASSERT_FALSE(set.ok()) << n;
      EXPECT_TRUE(set.status().IsCorruption()) << n << ": " << set.status().ToString();
    }
  }
}

struct Damage {
  std::string_view hex;  // the example to damage
  size_t offset;         // the byte to replace (offsets as in docs/formats/value.md)
  uint8_t byte;
  std::string message;   // part of the expected Corruption message
};

TEST(ValueFormat, DamageAtDocumentedOffsetsIsCorruptionNamingTheField) {
  const Damage cases[] = {
      {kWorkedExampleHex, 0, 0x00, "bad format version 0"},
      {kWorkedExampleHex, 4, '3', "history: version vector: node ids unsorted or repeated at entry 2"},
      {kWorkedExampleHex, 5, 0x00, "history: version vector: zero counter for node \"n1\""},
      {kWorkedExampleHex, 20, 0x02, "sibling 2: truncated flags"},
      {kWorkedExampleHex, 21, 0x04, "sibling 1: unknown flag bits in flags 0x04"},
      {kWorkedExampleHex, 22, 0x02, "sibling 1: dot truncated or outside the history"},
      {kWorkedExampleHex, 23, 0x03, "sibling 1: dot truncated or outside the history"},
      {kWorkedExampleHex, 32, 0x06, "sibling 1: truncated value"},
      {kWorkedExampleHex, 32, 0x04, "1 trailing bytes"},
      {kWorkedExampleHex, 21, 0x01, "6 trailing bytes"},  // a tombstone has no value
      {kSecondExampleHex, 34, 0x01, "siblings unsorted or repeated at dot n1:3"},
      {kSecondExampleHex, 44, 0x05, "sibling 2: context entry 1 truncated or outside the history"},
      {kSecondExampleHex, 45, 0x04, "sibling 2: context entry 1 truncated or outside the history"},
      {kSecondExampleHex, 46, 0x00, "sibling 2: context entries unsorted or repeated"},
      {kSecondExampleHex, 43, 0x00, "trailing bytes"},
  };
  for (const Damage& d : cases) {
    std::string bytes = Unhex(d.hex);
    ASSERT_LT(d.offset, bytes.size());
    bytes[d.offset] = static_cast<char>(d.byte);
    base::Result<SiblingSet> set = DecodeSiblingSet(bytes);
    ASSERT_FALSE(set.ok()) << "offset " << d.offset;
    EXPECT_TRUE(set.status().IsCorruption()) << set.status().ToString();
    EXPECT_NE(std::string::npos, set.status().message().find(d.message))
        << "offset " << d.offset << ": " << set.status().message();
  }
}

TEST(ValueFormat, ANewerFormatVersionIsNotSupportedRatherThanCorrupt) {
  std::string bytes = Unhex(kWorkedExampleHex);
  bytes[0] = 2;
  base::Result<SiblingSet> set = DecodeSiblingSet(bytes);
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(base::Status::Code::kNotSupported, set.status().code());
  EXPECT_EQ("stored value: format version 2 is newer than this node reads (1)", set.status().message());
  EXPECT_TRUE(DecodeSiblingSet("").status().IsCorruption());
}

TEST(ValueFormat, AnEmptySetRoundTrips) {
  EXPECT_EQ("01 00 00", Hex(EncodeSiblingSet(SiblingSet())));
  base::Result<SiblingSet> back = DecodeSiblingSet(Unhex("01 00 00"));
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back->empty());
}

// Random but valid sets: a few replicas' writes and merges.
SiblingSet RandomSet(base::Random* rnd) {
  SiblingSet replicas[3];
  const char* nodes[] = {"n1", "n2", "node-three"};
  uint64_t now = kT0;
  for (int step = 0, steps = static_cast<int>(rnd->Uniform(12)); step < steps; ++step) {
    now += rnd->Uniform(10'000'000);
    const size_t r = rnd->Uniform(3);
    const VersionVector context = rnd->OneIn(2) ? replicas[r].history() : replicas[rnd->Uniform(3)].history();
    if (rnd->OneIn(5)) {
      replicas[r].MergeFrom(replicas[rnd->Uniform(3)]);
    } else if (rnd->OneIn(6)) {
      (void)replicas[r].Delete(nodes[r], context, now, {});
    } else {
      (void)replicas[r].Put(nodes[r], context, rnd->RandomString(rnd->Uniform(40)), now, {});
    }
  }
  return replicas[rnd->Uniform(3)];
}

// Decoding arbitrary bytes returns an error or a valid set; never crashes.
void ExpectDecodesSafely(std::string_view bytes, size_t* decoded) {
  base::Result<SiblingSet> set = DecodeSiblingSet(bytes);
  if (!set.ok()) {
    EXPECT_TRUE(set.status().IsCorruption() || set.status().code() == base::Status::Code::kNotSupported)
        << set.status().ToString();
    return;
  }
  ++*decoded;
  base::Result<SiblingSet> again = DecodeSiblingSet(EncodeSiblingSet(*set));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(*set, *again);
}

TEST(ValueFormat, RandomSetsRoundTrip) {
  base::Random rnd(test::TestSeed("ValueFormat.RandomSetsRoundTrip"));
  for (int i = 0; i < 2000; ++i) {
    const SiblingSet set = RandomSet(&rnd);
    base::Result<SiblingSet> back = DecodeSiblingSet(EncodeSiblingSet(set));
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    ASSERT_EQ(set, *back);
  }
}

TEST(ValueFormat, DecodingRandomAndDamagedBytesNeverCrashes) {
  const uint64_t seed = test::TestSeed("ValueFormat.DecodingRandomAndDamagedBytesNeverCrashes");
  SCOPED_TRACE("KV_SEED=" + std::to_string(seed));
  base::Random rnd(seed);
  size_t decoded = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string noise(rnd.Uniform(64), '\0');
    for (char& c : noise) c = static_cast<char>(rnd.Next32());
    if (!noise.empty() && rnd.OneIn(2)) noise[0] = kValueFormatVersion;
    ExpectDecodesSafely(noise, &decoded);
  }
  for (int i = 0; i < 20000 && !HasFailure(); ++i) {
    std::string bytes = EncodeSiblingSet(RandomSet(&rnd));
    for (int k = 0, edits = 1 + static_cast<int>(rnd.Uniform(3)); k < edits && !bytes.empty(); ++k) {
      const size_t at = rnd.Uniform(bytes.size());
      switch (rnd.Uniform(5)) {
        case 0: bytes[at] = static_cast<char>(bytes[at] ^ (1 << rnd.Uniform(8))); break;
        case 1: bytes[at] = static_cast<char>(rnd.Next32()); break;
        case 2: bytes.resize(at); break;
        case 3: bytes.erase(at, 1); break;
        default: bytes.insert(at, 1, static_cast<char>(rnd.Next32())); break;
      }
    }
    ExpectDecodesSafely(bytes, &decoded);
  }
  // Damage inside timestamps and values still parses: the fuzzer reaches the end.
  EXPECT_GT(decoded, 100u);
}

// Found by the sibling_set fuzz target (test/fuzz/corpus/sibling_set/found-obsolete-sibling):
// two siblings n1:3 and n2:5 where n1:3's context covers n2:5. The decoder
// checks the structural invariants only (as FromParts does), so such a value
// decodes, with the obsolete sibling; a blind put over it (its history as the
// context) resolves both and leaves a set that keeps every invariant.
TEST(ValueFormat, AnObsoleteSiblingDecodesAndABlindPutResolvesIt) {
  const std::string bytes = Unhex(
      "01 02 02 6e 31 04 e4 e2 cf aa 06 02 6e 32 05 f0 93 cf aa 06 02 01 00 01 80 30 19 1b 24 cf aa 06 "
      "02 01 00 01 80 30 19 1b 24 0a 06 00 02 68 69");
  auto decoded = DecodeSiblingSet(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ASSERT_EQ(decoded->siblings().size(), 2u);
  EXPECT_EQ(decoded->CheckInvariants().ToString(),
            "Corruption: sibling set: sibling n2:5 is obsoleted by sibling n1:3");
  EXPECT_EQ(EncodeSiblingSet(*decoded), bytes);
  SiblingSet written = *decoded;
  auto put = written.Put("n3", decoded->history(), "v", kT0, VersioningOptions());
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(put->superseded, 2u);
  ASSERT_EQ(written.siblings().size(), 1u);
  EXPECT_EQ(written.siblings()[0].value, "v");
  EXPECT_TRUE(written.CheckInvariants().ok()) << written.CheckInvariants().ToString();
}

}  // namespace
}  // namespace kvring::repl
