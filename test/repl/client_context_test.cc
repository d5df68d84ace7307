#include "repl/client_context.h"

#include <gtest/gtest.h>

#include "base/coding.h"
#include "base/crc32c.h"
#include "repl/messages.h"
#include "repl/sibling_set.h"
#include "test/repl/repl_test_util.h"

namespace kvring::repl {
namespace {

VersionVector ExampleHistory() {  // docs/formats/value.md, "Client context"
  VersionVector history;
  history.Witness("n1", 3, 1'700'000'000);
  history.Witness("n2", 5, 1'699'990'000);
  return history;
}
const std::string kExample("\x01\x02\x02n1\x03\x80\xe2\xcf\xaa\x06\x02n2\x05\xf0\x93\xcf\xaa\x06\x73\x83\xf2\xad", 24);

// Re-seals a damaged body with a valid checksum, to reach the checks behind it.
std::string Sealed(std::string body) {
  base::PutFixed32(&body, base::crc32c::Mask(base::crc32c::Value(body.data(), body.size())));
  return body;
}

TEST(ClientContext, ExampleEncodesToTheDocumentedBytesAndBack) {
  EXPECT_EQ(kExample, EncodeClientContext(ExampleHistory()));
  base::Result<VersionVector> back = DecodeClientContext(kExample);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(ExampleHistory(), *back);  // entry times included
}

TEST(ClientContext, AnEmptyHistoryIsNotAnEmptyString) {
  const std::string bytes = EncodeClientContext(VersionVector());
  EXPECT_EQ(std::string("\x01\x00\x5f\xb0\xce\x81", 6), bytes);
  base::Result<VersionVector> back = DecodeClientContext(bytes);
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back->empty());
}

TEST(ClientContext, AnEmptyStringIsRejected) {
  base::Result<VersionVector> r = DecodeClientContext("");
  EXPECT_TRUE(r.status().IsInvalidArgument());
  EXPECT_NE(std::string::npos, r.status().message().find("empty")) << r.status().message();
}

TEST(ClientContext, EveryTruncationIsRejected) {
  for (size_t n = 1; n < kExample.size(); ++n) {
    base::Result<VersionVector> r = DecodeClientContext(kExample.substr(0, n));
    EXPECT_TRUE(r.status().IsInvalidArgument()) << n;
  }
}

TEST(ClientContext, EverySingleBitFlipIsCaughtByTheChecksum) {
  for (size_t i = 0; i < kExample.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string damaged = kExample;
      damaged[i] = static_cast<char>(damaged[i] ^ (1 << bit));
      base::Result<VersionVector> r = DecodeClientContext(damaged);
      ASSERT_FALSE(r.ok()) << "byte " << i << " bit " << bit;
      EXPECT_EQ("context: checksum mismatch (damaged or not copied whole from a get)", r.status().message());
    }
  }
}

TEST(ClientContext, SealedButMalformedContextsAreRejected) {
  const std::string body = kExample.substr(0, kExample.size() - 4);
  struct Case {
    std::string bytes;
    std::string message;
  };
  std::string newer = body;
  newer[0] = 2;
  std::string zero_counter = body;
  zero_counter[5] = 0;
  const Case cases[] = {
      {Sealed(newer), "context: unknown version 2 (this node reads version 1)"},
      {Sealed(body + "x"), "context: 1 trailing bytes"},
      {Sealed(zero_counter), "context: version vector: zero counter for node \"n1\""},
      {Sealed(body.substr(0, 8)), "context: version vector: truncated entry 1 of 2"},
  };
  for (const Case& c : cases) {
    base::Result<VersionVector> r = DecodeClientContext(c.bytes);
    ASSERT_FALSE(r.ok()) << c.message;
    EXPECT_TRUE(r.status().IsInvalidArgument());
    EXPECT_EQ(c.message, r.status().message());
  }
}

}  // namespace
}  // namespace kvring::repl

namespace kvring::repl {
namespace {

// docs/protocol.md section 11 shows what a node sends after `put apple red`
// (coordinated by n1 at 2023-11-14 22:13:20 UTC): these are repl's own bytes.
TEST(ClientContext, TheProtocolWorkedExampleComesFromARealWrite) {
  SiblingSet set;
  auto out = set.Put("n1", VersionVector(), "red", 1'700'000'000'000'000ull, VersioningOptions());
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(std::string("\x01\x00\x5f\xb0\xce\x81", 6), EncodeClientContext(VersionVector()));
  EXPECT_EQ(std::string("\x01\x01\x02n1\x01\x80\xe2\xcf\xaa\x06\x47\x64\xb3\x53", 15),
            EncodeClientContext(set.history()));
  std::string clock;
  EncodeSiblingClock(&clock, set.siblings()[0]);
  EXPECT_EQ(std::string("\x02n1\x01\x00", 5), clock);
}

}  // namespace
}  // namespace kvring::repl
