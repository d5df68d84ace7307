#include "repl/client_context.h"

#include <gtest/gtest.h>

#include <limits>

#include "base/coding.h"
#include "base/crypto.h"
#include "repl/messages.h"
#include "repl/sibling_set.h"
#include "test/repl/repl_test_util.h"

namespace kvring::repl {
namespace {

constexpr std::string_view kKey = "apple";  // the contexts below are apple's

VersionVector ExampleHistory() {  // docs/formats/value.md, "Client context"
  VersionVector history;
  history.Witness("n1", 3, 1'700'000'000);
  history.Witness("n2", 5, 1'699'990'000);
  return history;
}
const std::string kExample(
    "\x02\x02\x02n1\x03\x80\xe2\xcf\xaa\x06\x02n2\x05\xf0\x93\xcf\xaa\x06"
    "\x1a\x57\x45\xa7\x6e\x93\x4b\xbe\x9c\xe5\x4b\xdf\x29\xc8\x1d\x06",
    36);
const std::string kEmpty("\x02\x00\x32\xc5\x59\xd8\x1b\xff\x18\xf5\x90\xcd\xe3\x36\x53\x9f\x12\x7b", 18);

const ContextKey& Key() { return ContextKey::Default(); }

// Seals a body with this cluster's MAC, to reach the checks behind it (only a
// holder of the key can do this).
std::string Sealed(const std::string& body) {
  std::string input;
  base::PutLengthPrefixed(&input, kKey);
  return body + base::HmacSha256(Key().bytes(), input + body).substr(0, kContextMacBytes);
}

TEST(ClientContext, TheDefaultKeyIsTheDocumentedDerivation) {
  EXPECT_EQ(std::string("\x6c\x15\x21\xac\x13\xb3\xa8\x81\x25\x82\xac\x4c\x25\x45\xe3\xfc"
                        "\x72\xa2\x35\x85\xfe\xa3\x8c\xe8\xe7\x27\xd2\x45\x42\x77\x05\x50",
                        32),
            Key().bytes());
  EXPECT_EQ(ContextKey("kvring").bytes(), Key().bytes());
  EXPECT_NE(ContextKey("other").bytes(), Key().bytes());
}

TEST(ClientContext, ExampleEncodesToTheDocumentedBytesAndBack) {
  EXPECT_EQ(kExample, EncodeClientContext(Key(), kKey, ExampleHistory()));
  base::Result<VersionVector> back = DecodeClientContext(Key(), kKey, kExample);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(ExampleHistory(), *back);  // entry times included
}

TEST(ClientContext, AnEmptyHistoryIsNotAnEmptyString) {
  const std::string bytes = EncodeClientContext(Key(), kKey, VersionVector());
  EXPECT_EQ(kEmpty, bytes);
  base::Result<VersionVector> back = DecodeClientContext(Key(), kKey, bytes);
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back->empty());
}

TEST(ClientContext, AnEmptyStringIsRejected) {
  base::Result<VersionVector> r = DecodeClientContext(Key(), kKey, "");
  EXPECT_TRUE(r.status().IsInvalidArgument());
  EXPECT_NE(std::string::npos, r.status().message().find("empty")) << r.status().message();
}

TEST(ClientContext, EveryTruncationIsRejected) {
  for (size_t n = 1; n < kExample.size(); ++n) {
    base::Result<VersionVector> r = DecodeClientContext(Key(), kKey, kExample.substr(0, n));
    EXPECT_TRUE(r.status().IsInvalidArgument()) << n;
  }
}

TEST(ClientContext, EverySingleBitFlipIsCaughtByTheMac) {
  for (size_t i = 0; i < kExample.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string damaged = kExample;
      damaged[i] = static_cast<char>(damaged[i] ^ (1 << bit));
      base::Result<VersionVector> r = DecodeClientContext(Key(), kKey, damaged);
      ASSERT_FALSE(r.ok()) << "byte " << i << " bit " << bit;
      EXPECT_TRUE(r.status().IsInvalidArgument());
      EXPECT_NE(std::string::npos, r.status().message().find("forged, damaged or another key's")) << r.status().message();
    }
  }
}

// A client that writes its own context, say with a counter at 2^64-1 that would
// make the key unwritable, cannot seal it: without the key, any 16 bytes fail.
TEST(ClientContext, AContextAClientMadeUpIsRefused) {
  VersionVector forged;
  forged.Witness("n1", std::numeric_limits<uint64_t>::max(), 1'700'000'000);
  std::string body(1, static_cast<char>(kClientContextVersion));
  forged.EncodeTo(&body);
  for (const std::string& mac : {std::string(kContextMacBytes, '\0'), std::string(kContextMacBytes, '\xff'),
                                 base::RandomBytes(kContextMacBytes)}) {
    base::Result<VersionVector> r = DecodeClientContext(Key(), kKey, body + mac);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(std::string::npos, r.status().message().find("forged, damaged or another key's")) << r.status().message();
  }
}

TEST(ClientContext, AnOversizedContextIsRefusedBeforeItsMacIsComputed) {
  base::Result<VersionVector> r = DecodeClientContext(Key(), kKey, std::string(kMaxClientContextBytes + 1, '\x02'));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ("context: too large (65537 bytes, at most 65536)", r.status().message());
}

TEST(ClientContext, AContextFromAnotherClusterIsRefused) {
  const std::string theirs = EncodeClientContext(ContextKey("other"), kKey, ExampleHistory());
  base::Result<VersionVector> r = DecodeClientContext(Key(), kKey, theirs);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(std::string::npos, r.status().message().find("forged, damaged or another key's")) << r.status().message();
  EXPECT_TRUE(DecodeClientContext(ContextKey("other"), kKey, theirs).ok());
}

// Another key's context would supersede versions of this key its writer never
// saw (its counters are another key's): the MAC covers the key, so it fails.
TEST(ClientContext, AnotherKeysContextIsRefused) {
  const std::string pears = EncodeClientContext(Key(), "pear", ExampleHistory());
  base::Result<VersionVector> r = DecodeClientContext(Key(), kKey, pears);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(std::string::npos, r.status().message().find("another key's")) << r.status().message();
  EXPECT_TRUE(DecodeClientContext(Key(), "pear", pears).ok());
  EXPECT_NE(pears, EncodeClientContext(Key(), kKey, ExampleHistory()));
}

TEST(ClientContext, SealedButMalformedContextsAreRejected) {
  const std::string body = kExample.substr(0, kExample.size() - kContextMacBytes);
  struct Case {
    std::string bytes;
    std::string message;
  };
  std::string older = body;
  older[0] = 1;
  std::string zero_counter = body;
  zero_counter[5] = 0;
  const Case cases[] = {
      {Sealed(older), "context: unknown version 1 (this node reads version 2)"},
      {Sealed(body + "x"), "context: 1 trailing bytes"},
      {Sealed(zero_counter), "context: version vector: zero counter for node \"n1\""},
      {Sealed(body.substr(0, 8)), "context: version vector: truncated entry 1 of 2"},
  };
  for (const Case& c : cases) {
    base::Result<VersionVector> r = DecodeClientContext(Key(), kKey, c.bytes);
    ASSERT_FALSE(r.ok()) << c.message;
    EXPECT_TRUE(r.status().IsInvalidArgument());
    EXPECT_EQ(c.message, r.status().message());
  }
}

// docs/protocol.md section 11 shows what a node sends after `put apple red`
// (coordinated by n1 at 2023-11-14 22:13:20 UTC): these are repl's own bytes.
TEST(ClientContext, TheProtocolWorkedExampleComesFromARealWrite) {
  SiblingSet set;
  auto out = set.Put("n1", VersionVector(), "red", 1'700'000'000'000'000ull, VersioningOptions());
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(kEmpty, EncodeClientContext(Key(), kKey, VersionVector()));
  EXPECT_EQ(std::string("\x02\x01\x02n1\x01\x80\xe2\xcf\xaa\x06\x88\xd7\x72\x7b\xdf\x2b\x71\x70\x9c\x71"
                        "\x9e\x58\x79\x40\x4d\x57",
                        27),
            EncodeClientContext(Key(), kKey, set.history()));
  std::string clock;
  EncodeSiblingClock(&clock, set.siblings()[0]);
  EXPECT_EQ(std::string("\x02n1\x01\x00", 5), clock);
}

}  // namespace
}  // namespace kvring::repl
