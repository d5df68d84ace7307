// Framing and message codecs (net/protocol.h): partial and split frames, many
// frames per buffer, bad lengths, round trips of every message, truncated and
// garbage bodies, and the golden bytes of the worked example in docs/protocol.md.
#include "net/protocol.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/coding.h"
#include "base/random.h"
#include "net/client_auth.h"
#include "net/hello_auth.h"
#include "test/util/test_util.h"

namespace kvring::net {
namespace {

using test::Hex;

using base::Status;

std::string Unhex(std::string_view hex) {
  std::string out;
  int nibble = -1;
  for (char c : hex) {
    int v = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
    if (v < 0) continue;
    if (nibble < 0) {
      nibble = v;
    } else {
      out.push_back(static_cast<char>(nibble * 16 + v));
      nibble = -1;
    }
  }
  return out;
}

ParseResult Parse(std::string_view buf, Frame* f, size_t* consumed, Status* error,
                  uint32_t max = kDefaultMaxFrameBytes) {
  return ParseFrame(buf.data(), buf.size(), max, f, consumed, error);
}

TEST(FrameCodec, EveryPrefixOfAFrameNeedsMoreAndTheWholeFrameParses) {
  std::string buf;
  AppendFrame(&buf, 0x10, 0, 42, "body bytes");
  Frame f;
  size_t consumed = 0;
  Status error;
  for (size_t n = 0; n < buf.size(); ++n) {
    EXPECT_EQ(Parse(std::string_view(buf).substr(0, n), &f, &consumed, &error), ParseResult::kNeedMore) << n;
  }
  ASSERT_EQ(Parse(buf, &f, &consumed, &error), ParseResult::kFrame);
  EXPECT_EQ(consumed, buf.size());
  EXPECT_EQ(f.opcode, 0x10);
  EXPECT_EQ(f.flags, 0);
  EXPECT_EQ(f.request_id, 42u);
  EXPECT_EQ(f.body, "body bytes");
  EXPECT_FALSE(f.is_reply());
}

TEST(FrameCodec, ManyFramesInOneBufferParseInOrderWithTheirOwnIds) {
  std::string buf;
  const std::vector<uint32_t> ids = {5, 1, 4000000000u, 3, 0, 77};  // any order, any value
  for (size_t i = 0; i < ids.size(); ++i) {
    AppendFrame(&buf, static_cast<uint8_t>(i), kFlagReply, ids[i], std::string(i * 3, 'x'));
  }
  std::string_view rest = buf;
  for (size_t i = 0; i < ids.size(); ++i) {
    Frame f;
    size_t consumed = 0;
    Status error;
    ASSERT_EQ(Parse(rest, &f, &consumed, &error), ParseResult::kFrame);
    EXPECT_EQ(f.request_id, ids[i]);
    EXPECT_EQ(f.opcode, i);
    EXPECT_TRUE(f.is_reply());
    EXPECT_EQ(f.body.size(), i * 3);
    rest.remove_prefix(consumed);
  }
  EXPECT_TRUE(rest.empty());
}

TEST(FrameCodec, EmptyBodyFrameIsTenBytes) {
  std::string buf;
  AppendFrame(&buf, 0x02, 0, 9, "");
  EXPECT_EQ(buf.size(), kFrameHeaderBytes);
  Frame f;
  size_t consumed = 0;
  Status error;
  ASSERT_EQ(Parse(buf, &f, &consumed, &error), ParseResult::kFrame);
  EXPECT_TRUE(f.body.empty());
}

TEST(FrameCodec, RejectsFrameOverMaxFrameBytesNamingBothSizes) {
  std::string buf;
  base::PutFixed32(&buf, 1025);  // only the length: no need to wait for the body
  Frame f;
  size_t consumed = 0;
  Status error;
  ASSERT_EQ(Parse(buf, &f, &consumed, &error, 1024), ParseResult::kError);
  EXPECT_TRUE(error.IsTooLarge());
  EXPECT_NE(error.message().find("1025"), std::string::npos) << error.ToString();
  EXPECT_NE(error.message().find("1024"), std::string::npos) << error.ToString();
  // Exactly at the limit is fine.
  std::string ok;
  AppendFrame(&ok, 1, 0, 1, std::string(1024 - 6, 'z'));
  EXPECT_EQ(Parse(ok, &f, &consumed, &error, 1024), ParseResult::kFrame);
}

TEST(FrameCodec, RejectsLengthShorterThanTheHeader) {
  for (uint32_t length = 0; length < 6; ++length) {
    std::string buf;
    base::PutFixed32(&buf, length);
    buf.append(12, '\0');
    Frame f;
    size_t consumed = 0;
    Status error;
    ASSERT_EQ(Parse(buf, &f, &consumed, &error), ParseResult::kError) << length;
    EXPECT_TRUE(error.IsCorruption());
    EXPECT_NE(error.message().find("shorter than"), std::string::npos);
  }
}

TEST(FrameCodec, BeginAndFinishFrameBuildInPlace) {
  std::string out = "prefix";
  size_t start = BeginFrame(&out, 0x11, kFlagReply, 3);
  out += "abc";
  FinishFrame(&out, start);
  std::string expected = "prefix";
  AppendFrame(&expected, 0x11, kFlagReply, 3, "abc");
  EXPECT_EQ(out, expected);
}

TEST(ReplyStatusCodec, OkAndErrorRepliesRoundTrip) {
  std::string body;
  AppendStatus(&body, Status::OK());
  body += "payload";
  Status s = Status::Corruption("x");
  std::string_view payload;
  ASSERT_TRUE(ParseReplyStatus(body, &s, &payload).ok());
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(payload, "payload");

  for (auto code : {Status::Code::kNotFound, Status::Code::kTimedOut, Status::Code::kTooLarge}) {
    std::string err;
    AppendStatus(&err, Status(code, "what failed"));
    ASSERT_TRUE(ParseReplyStatus(err, &s, &payload).ok());
    EXPECT_EQ(s.code(), code);
    EXPECT_EQ(s.message(), "what failed");
    EXPECT_TRUE(payload.empty());
  }
}

TEST(ReplyStatusCodec, MalformedReplyBodiesAreCorruption) {
  Status s;
  std::string_view payload;
  EXPECT_TRUE(ParseReplyStatus("", &s, &payload).IsCorruption());
  EXPECT_TRUE(ParseReplyStatus(std::string(1, '\x0c'), &s, &payload).IsCorruption());  // unknown code 12
  EXPECT_TRUE(ParseReplyStatus(std::string("\x01\x05" "ab", 4), &s, &payload).IsCorruption());  // short message
}

TEST(MessageCodec, HelloRoundTrips) {
  HelloRequest in;
  in.role = PeerRole::kNode;
  in.cluster = "prod";
  in.id = "n7";
  std::string body;
  EncodeHello(&body, in);
  HelloRequest out;
  ASSERT_TRUE(DecodeHello(body, &out));
  EXPECT_EQ(out.version, kProtocolVersion);
  EXPECT_EQ(out.role, PeerRole::kNode);
  EXPECT_EQ(out.cluster, "prod");
  EXPECT_EQ(out.id, "n7");

  HelloReply r{kProtocolVersion, "prod", "n1"};
  std::string payload;
  EncodeHelloReply(&payload, r);
  HelloReply r2;
  ASSERT_TRUE(DecodeHelloReply(payload, &r2));
  EXPECT_EQ(r2.cluster, "prod");
  EXPECT_EQ(r2.node_id, "n1");
}

TEST(MessageCodec, HelloWithUnknownRoleIsRejected) {
  HelloRequest in;
  std::string body;
  EncodeHello(&body, in);
  body[2] = 2;  // role byte
  HelloRequest out;
  EXPECT_FALSE(DecodeHello(body, &out));
}

TEST(MessageCodec, GetPutDeleteRoundTrip) {
  GetRequest g{kConsistencyQuorum, kGetFlagLocal, "key"};
  std::string body;
  EncodeGet(&body, g);
  GetRequest g2;
  ASSERT_TRUE(DecodeGet(body, &g2));
  EXPECT_EQ(g2.consistency, kConsistencyQuorum);
  EXPECT_EQ(g2.flags, kGetFlagLocal);
  EXPECT_EQ(g2.key, "key");

  std::string big_value(100000, 'v');
  PutRequest p{2, 0, "k", big_value, "ctx"};
  body.clear();
  EncodePut(&body, p);
  PutRequest p2;
  ASSERT_TRUE(DecodePut(body, &p2));
  EXPECT_EQ(p2.consistency, 2);
  EXPECT_EQ(p2.key, "k");
  EXPECT_EQ(p2.value, big_value);
  EXPECT_EQ(p2.context, "ctx");

  DeleteRequest d{kConsistencyAll, 0, "gone", ""};
  body.clear();
  EncodeDelete(&body, d);
  DeleteRequest d2;
  ASSERT_TRUE(DecodeDelete(body, &d2));
  EXPECT_EQ(d2.consistency, kConsistencyAll);
  EXPECT_EQ(d2.key, "gone");
  EXPECT_TRUE(d2.context.empty());
}

TEST(MessageCodec, GetReplyWithSiblingsAndWriteReceiptRoundTrip) {
  GetReply r;
  r.siblings.push_back({"v1", "clock1", 1});
  r.siblings.push_back({"", "", 1700000000000000ull});
  r.context = "context";
  std::string payload;
  EncodeGetReply(&payload, r);
  GetReply r2;
  ASSERT_TRUE(DecodeGetReply(payload, &r2));
  ASSERT_EQ(r2.siblings.size(), 2u);
  EXPECT_EQ(r2.siblings[0].value, "v1");
  EXPECT_EQ(r2.siblings[0].clock, "clock1");
  EXPECT_EQ(r2.siblings[0].timestamp_us, 1u);
  EXPECT_EQ(r2.siblings[1].value, "");
  EXPECT_EQ(r2.siblings[1].timestamp_us, 1700000000000000ull);
  EXPECT_EQ(r2.context, "context");

  WriteReceipt w;
  w.acks.push_back({"n1", false});
  w.acks.push_back({"n4", true, "n2"});
  payload.clear();
  EncodeWriteReceipt(&payload, w);
  WriteReceipt w2;
  ASSERT_TRUE(DecodeWriteReceipt(payload, &w2));
  ASSERT_EQ(w2.acks.size(), 2u);
  EXPECT_EQ(w2.acks[0].node_id, "n1");
  EXPECT_FALSE(w2.acks[0].stand_in);
  EXPECT_EQ(w2.acks[1].node_id, "n4");
  EXPECT_TRUE(w2.acks[1].stand_in);
  EXPECT_EQ(w2.acks[1].owner, "n2");
}

// Every message encoding, for the truncation and garbage tests.
std::vector<std::pair<std::string, std::function<bool(std::string_view)>>> AllEncodings() {
  std::vector<std::pair<std::string, std::function<bool(std::string_view)>>> all;
  std::string b;
  EncodeHello(&b, HelloRequest{kProtocolVersion, PeerRole::kClient, "c", "id"});
  all.push_back({b, [](std::string_view v) { HelloRequest m; return DecodeHello(v, &m); }});
  b.clear();
  EncodeHelloReply(&b, HelloReply{kProtocolVersion, "c", "n"});
  all.push_back({b, [](std::string_view v) { HelloReply m; return DecodeHelloReply(v, &m); }});
  b.clear();
  EncodeGet(&b, GetRequest{1, 0, "key"});
  all.push_back({b, [](std::string_view v) { GetRequest m; return DecodeGet(v, &m); }});
  b.clear();
  GetReply gr;
  gr.siblings.push_back({"value", "clock", 12345});
  gr.context = "ctx";
  EncodeGetReply(&b, gr);
  all.push_back({b, [](std::string_view v) { GetReply m; return DecodeGetReply(v, &m); }});
  b.clear();
  EncodePut(&b, PutRequest{1, 0, "key", "value", "ctx"});
  all.push_back({b, [](std::string_view v) { PutRequest m; return DecodePut(v, &m); }});
  b.clear();
  EncodeDelete(&b, DeleteRequest{1, 0, "key", "ctx"});
  all.push_back({b, [](std::string_view v) { DeleteRequest m; return DecodeDelete(v, &m); }});
  b.clear();
  WriteReceipt wr;
  wr.acks.push_back({"n1", true});
  wr.context = "ctx";
  wr.clock = "clock";
  EncodeWriteReceipt(&b, wr);
  all.push_back({b, [](std::string_view v) { WriteReceipt m; return DecodeWriteReceipt(v, &m); }});
  b.clear();
  EncodeNotFoundPayload(&b, "ctx");
  all.push_back({b, [](std::string_view v) { std::string_view c; return DecodeNotFoundPayload(v, &c); }});
  return all;
}

TEST(MessageCodec, TruncatedOrExtendedBodiesDecodeAsFalse) {
  for (const auto& [encoded, decode] : AllEncodings()) {
    ASSERT_TRUE(decode(encoded)) << Hex(encoded);
    for (size_t n = 0; n < encoded.size(); ++n) {
      EXPECT_FALSE(decode(std::string_view(encoded).substr(0, n))) << Hex(encoded) << " cut at " << n;
    }
    EXPECT_FALSE(decode(encoded + "x")) << Hex(encoded) << " with a trailing byte";
  }
}

TEST(MessageCodec, RandomAndMutatedBodiesNeverCrashTheDecoders) {
  base::Random rnd(test::TestSeed("RandomAndMutatedBodiesNeverCrashTheDecoders"));
  auto all = AllEncodings();
  for (int i = 0; i < 20000; ++i) {
    const auto& [encoded, decode] = all[rnd.Uniform(all.size())];
    std::string mutated = encoded;
    if (rnd.OneIn(4)) {
      mutated.resize(rnd.Uniform(64));
      for (auto& c : mutated) c = static_cast<char>(rnd.Next32());
    } else {
      int flips = 1 + static_cast<int>(rnd.Uniform(4));
      for (int f = 0; f < flips; ++f) mutated[rnd.Uniform(mutated.size())] = static_cast<char>(rnd.Next32());
    }
    decode(mutated);  // must return (true or false) without reading out of bounds
    Status s;
    std::string_view payload;
    ParseReplyStatus(mutated, &s, &payload).IgnoreError();
  }
}

TEST(MessageCodec, GetReplyWithAHugeSiblingCountIsRejectedWithoutReserving) {
  std::string payload;
  base::PutVarint32(&payload, 0xfffffff0u);
  payload += "tiny";
  GetReply r;
  EXPECT_FALSE(DecodeGetReply(payload, &r));
}

TEST(ConsistencyCodec, NamesAndNumbersParse) {
  uint8_t level = 0;
  EXPECT_TRUE(ParseConsistency("one", &level));
  EXPECT_EQ(level, 1);
  EXPECT_TRUE(ParseConsistency("QUORUM", &level));
  EXPECT_EQ(level, kConsistencyQuorum);
  EXPECT_TRUE(ParseConsistency("All", &level));
  EXPECT_EQ(level, kConsistencyAll);
  EXPECT_TRUE(ParseConsistency("default", &level));
  EXPECT_EQ(level, kConsistencyDefault);
  EXPECT_TRUE(ParseConsistency("250", &level));
  EXPECT_EQ(level, 250);
  EXPECT_FALSE(ParseConsistency("0", &level));
  EXPECT_FALSE(ParseConsistency("251", &level));
  EXPECT_FALSE(ParseConsistency("", &level));
  EXPECT_FALSE(ParseConsistency("2x", &level));
  EXPECT_FALSE(ParseConsistency("LOCAL", &level));
  EXPECT_FALSE(ParseConsistency("local_quorum2", &level));
  EXPECT_EQ(ConsistencyName(kConsistencyQuorum), "QUORUM");
  EXPECT_EQ(ConsistencyName(3), "3");
}

// (From branch coord.)
TEST(ConsistencyCodec, PerDcLevelsHaveTheirBytesAndOnlyLocalOnesAreLocal) {
  EXPECT_EQ("LOCAL_ONE", ConsistencyName(kConsistencyLocalOne));
  EXPECT_EQ("LOCAL_QUORUM", ConsistencyName(kConsistencyLocalQuorum));
  EXPECT_EQ("EACH_QUORUM", ConsistencyName(kConsistencyEachQuorum));
  EXPECT_TRUE(IsLocalConsistency(251) && IsLocalConsistency(252));
  EXPECT_FALSE(IsLocalConsistency(253) || IsLocalConsistency(254) || IsLocalConsistency(1));
}

TEST(ConsistencyCodec, EveryByteIsALevelWhoseNameParsesBackToIt) {
  for (int b = 0; b <= 255; ++b) {
    uint8_t level = 0xaa;
    const std::string name = ConsistencyName(static_cast<uint8_t>(b));
    ASSERT_TRUE(ParseConsistency(name, &level)) << b << " named '" << name << "'";
    EXPECT_EQ(b, level) << name;
  }
}

TEST(OpcodeNames, KnownOpcodesHaveNamesAndOthersShowTheirNumber) {
  EXPECT_EQ(OpcodeName(0x10), "GET");
  EXPECT_EQ(OpcodeName(0x01), "HELLO");
  EXPECT_EQ(OpcodeName(0x7e), "0x7e");
}

// The worked example of docs/protocol.md, section 11: a client creates key
// `apple` from "not found" and reads it back from a 3-node cluster (node n1
// coordinates; n1 and n2 acknowledge). The contexts and the clock are the bytes a
// kvnode sends (test/repl pins them to repl's encoders). If a test here changes,
// the document changes in the same commit.
constexpr char kEmptyContext[] = "02 00 32 c5 59 d8 1b ff 18 f5 90 cd e3 36 53 9f 12 7b";  // history []
constexpr char kContextN1[] =
    "02 01 02 6e 31 01 80 e2 cf aa 06 88 d7 72 7b df 2b 71 70 9c 71 9e 58 79 40 4d 57";  // history [n1:1]
constexpr char kClockN1[] = "02 6e 31 01 00";                                   // n1:1 []

std::string Frame1(Opcode op, uint8_t flags, uint32_t id, const std::string& body) {
  std::string frame;
  AppendFrame(&frame, static_cast<uint8_t>(op), flags, id, body);
  return Hex(frame);
}

TEST(GoldenBytes, GetRequestMatchesTheDocumentedHexDump) {
  std::string body;
  EncodeGet(&body, GetRequest{kConsistencyQuorum, 0, "apple"});
  EXPECT_EQ(Frame1(Opcode::kGet, 0, 7, body), "0e 00 00 00 10 00 07 00 00 00 fe 00 05 61 70 70 6c 65");
}

TEST(GoldenBytes, NotFoundReplyCarriesTheMissingKeysContext) {
  std::string body;
  AppendStatus(&body, Status::NotFound("key not found"));
  EncodeNotFoundPayload(&body, Unhex(kEmptyContext));
  EXPECT_EQ(Frame1(Opcode::kGet, kFlagReply, 7, body),
            "28 00 00 00 10 01 07 00 00 00 01 0d 6b 65 79 20 6e 6f 74 20 66 6f 75 6e 64 12 "
            "02 00 32 c5 59 d8 1b ff 18 f5 90 cd e3 36 53 9f 12 7b");
  // Version 1 readers ignore what follows an error's message.
  Status s;
  std::string_view payload;
  ASSERT_TRUE(ParseReplyStatus(body, &s, &payload).ok());
  EXPECT_TRUE(s.IsNotFound());
  std::string_view context;
  ASSERT_TRUE(DecodeNotFoundPayload(payload, &context));
  EXPECT_EQ(Hex(std::string(context)), kEmptyContext);
}

TEST(GoldenBytes, PutWithTheNotFoundContextMatchesTheDocumentedHexDump) {
  const std::string context = Unhex(kEmptyContext);
  std::string body;
  EncodePut(&body, PutRequest{kConsistencyQuorum, 0, "apple", "red", context});
  EXPECT_EQ(Frame1(Opcode::kPut, 0, 8, body),
            "25 00 00 00 11 00 08 00 00 00 fe 00 05 61 70 70 6c 65 03 72 65 64 12 "
            "02 00 32 c5 59 d8 1b ff 18 f5 90 cd e3 36 53 9f 12 7b");
}

TEST(GoldenBytes, WriteReceiptCarriesTheNewVersionsContextAndClock) {
  const std::string context = Unhex(kContextN1), clock = Unhex(kClockN1);
  std::string body;
  AppendStatus(&body, Status::OK());
  EncodeWriteReceipt(&body, WriteReceipt{{{"n1", false}, {"n2", false}}, context, clock});
  EXPECT_EQ(Frame1(Opcode::kPut, kFlagReply, 8, body),
            "34 00 00 00 11 01 08 00 00 00 00 02 02 6e 31 00 00 02 6e 32 00 00 1b "
            "02 01 02 6e 31 01 80 e2 cf aa 06 88 d7 72 7b df 2b 71 70 9c 71 9e 58 79 40 4d 57 05 02 6e 31 01 00");
  // A version-1 connection gets the acks alone.
  std::string v1;
  EncodeWriteReceipt(&v1, WriteReceipt{{{"n1", false}, {"n2", false}}, context, clock}, 1);
  EXPECT_EQ(Hex(v1), "02 02 6e 31 00 02 6e 32 00");
  WriteReceipt back;
  ASSERT_TRUE(DecodeWriteReceipt(v1, &back, 1));
  EXPECT_EQ(back.acks.size(), 2u);
  EXPECT_TRUE(back.context.empty());
}

TEST(GoldenBytes, GetReplyOfAVersionedValueMatchesTheDocumentedHexDump) {
  const std::string context = Unhex(kContextN1), clock = Unhex(kClockN1);
  GetReply reply;
  reply.siblings.push_back({"red", clock, 1700000000000000ull});
  reply.context = context;
  std::string body;
  AppendStatus(&body, Status::OK());
  EncodeGetReply(&body, reply);
  const std::string documented =
      "36 00 00 00 10 01 09 00 00 00 00 01 03 72 65 64 05 02 6e 31 01 00 80 80 f9 c0 c1 c4 82 03 1b "
      "02 01 02 6e 31 01 80 e2 cf aa 06 88 d7 72 7b df 2b 71 70 9c 71 9e 58 79 40 4d 57";
  EXPECT_EQ(Frame1(Opcode::kGet, kFlagReply, 9, body), documented);
  // And the documented bytes decode back to the same reply.
  std::string bytes = Unhex(documented);
  Frame f;
  size_t consumed = 0;
  Status error;
  ASSERT_EQ(Parse(bytes, &f, &consumed, &error), ParseResult::kFrame);
  Status s;
  std::string_view payload;
  ASSERT_TRUE(ParseReplyStatus(f.body, &s, &payload).ok());
  ASSERT_TRUE(s.ok());
  GetReply decoded;
  ASSERT_TRUE(DecodeGetReply(payload, &decoded));
  ASSERT_EQ(decoded.siblings.size(), 1u);
  EXPECT_EQ(decoded.siblings[0].value, "red");
  EXPECT_EQ(decoded.siblings[0].clock, clock);
  EXPECT_EQ(decoded.siblings[0].timestamp_us, 1700000000000000ull);
  EXPECT_EQ(decoded.context, context);
}

}  // namespace
}  // namespace kvring::net

namespace kvring::net {
namespace {

// docs/protocol.md section 6 and 6.1: a client's HELLO and the cluster handshake
// of node n2 with node n1 (secret "correct horse battery staple", client nonce
// 00..0f, server nonce 10..1f; proofs pinned in test/net/hello_auth_test.cc).
std::string HexFrame(Opcode op, uint8_t flags, const std::string& body) {
  std::string frame;
  AppendFrame(&frame, static_cast<uint8_t>(op), flags, 0, body);
  return Hex(frame);
}

std::string Bytes(int first, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out.push_back(static_cast<char>(first + i));
  return out;
}

TEST(GoldenBytes, AClientHelloAndItsReplyMatchTheDocumentedHexDump) {
  std::string body;
  EncodeHello(&body, HelloRequest{3, PeerRole::kClient, "kvring", "kvctl", ""});
  EXPECT_EQ("17 00 00 00 01 00 00 00 00 00 03 00 00 06 6b 76 72 69 6e 67 05 6b 76 63 74 6c 00",
            HexFrame(Opcode::kHello, 0, body));
  body.clear();
  AppendStatus(&body, Status::OK());
  EncodeHelloReply(&body, HelloReply{3, "kvring", "n1", ""});
  EXPECT_EQ("14 00 00 00 01 01 00 00 00 00 00 03 00 06 6b 76 72 69 6e 67 02 6e 31 00",
            HexFrame(Opcode::kHello, kFlagReply, body));
}

TEST(GoldenBytes, TheClusterHandshakeMatchesTheDocumentedHexDump) {
  const ClusterSecret secret = ClusterSecret::FromMaterial("correct horse battery staple");
  const std::string client_nonce = Bytes(0x00, 16), server_nonce = Bytes(0x10, 16);
  std::string body;
  EncodeHello(&body, HelloRequest{3, PeerRole::kNode, "kvring", "n2", client_nonce});
  EXPECT_EQ("24 00 00 00 01 00 00 00 00 00 03 00 01 06 6b 76 72 69 6e 67 02 6e 32 10 00 01 02 03 04 05 06 07 08 09 "
            "0a 0b 0c 0d 0e 0f",
            HexFrame(Opcode::kHello, 0, body));
  body.clear();
  AppendStatus(&body, Status::OK());
  const std::string challenge =
      server_nonce + HelloProof(secret, HelloSide::kServer, "kvring", "n2", client_nonce, server_nonce);
  EncodeHelloReply(&body, HelloReply{3, "", "", challenge});
  EXPECT_EQ("3c 00 00 00 01 01 00 00 00 00 00 03 00 00 00 30 10 11 12 13 14 15 16 17 18 19 1a 1b 1c 1d 1e 1f ae 13 "
            "0a ea 6f 38 12 0b 8a fb d1 88 06 0a ce d4 30 e9 96 30 25 43 1e 52 69 fc fb fd a4 40 82 1c",
            HexFrame(Opcode::kHello, kFlagReply, body));
  body.clear();
  EncodeAuth(&body, HelloProof(secret, HelloSide::kClient, "kvring", "n2", client_nonce, server_nonce));
  EXPECT_EQ("27 00 00 00 03 00 00 00 00 00 20 5d 16 ad c5 dc c7 93 f6 2d a8 94 7b 7e 40 dd c4 3d 47 c9 9e bc 45 64 "
            "0c 25 44 64 19 36 e3 19 76",
            HexFrame(Opcode::kAuth, 0, body));
  body.clear();
  AppendStatus(&body, Status::OK());
  EncodeHelloReply(&body, HelloReply{3, "kvring", "n1", ""});
  EXPECT_EQ("14 00 00 00 03 01 00 00 00 00 00 03 00 06 6b 76 72 69 6e 67 02 6e 31 00",
            HexFrame(Opcode::kAuth, kFlagReply, body));
}

// docs/protocol.md section 6.2: user alice (password "pencil", salt 00..0f, 4096
// iterations), client nonce 0x11 x 16, server nonce 0x22 x 16. The proof and the
// signature are cross-checked with Python's hashlib in test/net/client_auth_test.cc.
TEST(GoldenBytes, TheClientHandshakeMatchesTheDocumentedHexDump) {
  const std::string client_nonce(16, '\x11'), server_nonce(16, '\x22');
  std::string body;
  EncodeHello(&body, HelloRequest{3, PeerRole::kClient, "kvring", "kvctl", client_nonce, "alice"});
  EXPECT_EQ("2d 00 00 00 01 00 00 00 00 00 03 00 00 06 6b 76 72 69 6e 67 05 6b 76 63 74 6c 10 11 11 11 11 11 11 11 "
            "11 11 11 11 11 11 11 11 11 05 61 6c 69 63 65",
            HexFrame(Opcode::kHello, 0, body));
  auto users = UserTable::Parse(
      "alice read-write 4096 000102030405060708090a0b0c0d0e0f "
      "cc709da25db4e38fd9c96ccf2e2ee8c40a4291a98ac3d67e13853f400a5dff96 "
      "75de697813a2b559cb345bbb566c0ff8788369ac383940afdfde9e5425a16221",
      "users");
  ASSERT_TRUE(users.ok()) << users.status().ToString();
  const std::string challenge = users->Challenge("alice", server_nonce);
  body.clear();
  AppendStatus(&body, Status::OK());
  EncodeHelloReply(&body, HelloReply{3, "", "", challenge});
  EXPECT_EQ("30 00 00 00 01 01 00 00 00 00 00 03 00 00 00 24 22 22 22 22 22 22 22 22 22 22 22 22 22 22 22 22 00 01 "
            "02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 00 10 00 00",
            HexFrame(Opcode::kHello, kFlagReply, body));
  const ClientCredentials alice{"alice", "pencil"};
  std::string auth, signature;
  ASSERT_TRUE(AnswerClientChallenge(&alice, "kvring", client_nonce, challenge, "n1", &auth, &signature).ok());
  EXPECT_EQ("27 00 00 00 03 00 00 00 00 00 20 a3 d1 8f c5 20 a0 1c ef d5 fa 63 ae 29 8d 0f 63 a9 54 a7 f7 86 53 a2 "
            "e8 56 55 b2 d7 80 f2 5c bc",
            HexFrame(Opcode::kAuth, 0, auth));
  body.clear();
  AppendStatus(&body, Status::OK());
  EncodeHelloReply(&body, HelloReply{3, "kvring", "n1", signature});
  EXPECT_EQ("34 00 00 00 03 01 00 00 00 00 00 03 00 06 6b 76 72 69 6e 67 02 6e 31 20 d2 2a 55 e1 02 78 cd 9d d9 d2 "
            "21 c9 0e c7 63 4c ee a5 3e 4f e7 7e c0 48 e3 61 c2 4e e6 07 1b 55",
            HexFrame(Opcode::kAuth, kFlagReply, body));
}

TEST(MessageCodec, AHellosUserIsOptionalButNeverEmpty) {
  std::string body;
  EncodeHello(&body, HelloRequest{3, PeerRole::kClient, "kvring", "c", std::string(16, 'n'), "alice"});
  HelloRequest hello;
  ASSERT_TRUE(DecodeHello(body, &hello));
  EXPECT_EQ("alice", hello.user);
  body.clear();
  EncodeHello(&body, HelloRequest{3, PeerRole::kClient, "kvring", "c", "", ""});
  ASSERT_TRUE(DecodeHello(body, &hello));
  EXPECT_EQ("", hello.user);
  EXPECT_FALSE(DecodeHello(body + std::string(1, '\0'), &hello)) << "an empty user field is malformed";
  EXPECT_FALSE(DecodeHello(body + std::string("\x05" "ab"), &hello)) << "a truncated user field";
}

TEST(MessageCodec, OlderHellosHaveNoNonceAndOlderRepliesNoChallenge) {
  std::string body;
  EncodeHello(&body, HelloRequest{2, PeerRole::kNode, "kvring", "n2", "ignored in version 2"});
  HelloRequest hello;
  ASSERT_TRUE(DecodeHello(body, &hello));
  EXPECT_TRUE(hello.nonce.empty());
  std::string payload;
  EncodeHelloReply(&payload, HelloReply{2, "kvring", "n1", "ignored"});
  EXPECT_EQ("02 00 06 6b 76 72 69 6e 67 02 6e 31", Hex(payload));
  HelloReply reply;
  ASSERT_TRUE(DecodeHelloReply(payload, &reply));
  EXPECT_TRUE(reply.challenge.empty());
  std::string_view proof;
  EXPECT_FALSE(DecodeAuth("", &proof));
  EXPECT_FALSE(DecodeAuth(std::string("\x01xy", 3), &proof)) << "trailing bytes";
}

}  // namespace
}  // namespace kvring::net
