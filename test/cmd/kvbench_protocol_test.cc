// kvbench's two wire codecs: the RESP parser and codec (redis://) and the kv
// codec over net/protocol.h (kv://).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/random.h"
#include "cmd/kvbench/kv_codec.h"
#include "cmd/kvbench/resp_codec.h"
#include "cmd/kvbench/resp_parser.h"
#include "test/util/test_util.h"

namespace kvring::cmd::kvbench {
namespace {

using net::ParseResult;

// Parses `wire`, which must outlive the views in *v.
ParseResult ParseAll(const std::string& wire, RespValue* v, size_t* used) {
  base::Status error;
  return ParseResp(wire.data(), wire.size(), v, used, &error);
}

TEST(KvbenchResp, ParsesEveryReplyType) {
  RespValue v;
  size_t used = 0;
  const std::string ok = "+OK\r\n", err = "-ERR wrong number of arguments\r\n", integer = ":-42\r\n",
                    nil = "$-1\r\n", empty = "$0\r\n\r\n", array = "*3\r\n:1\r\n$2\r\nab\r\n*1\r\n+x\r\n+next\r\n";
  ASSERT_EQ(ParseAll(ok, &v, &used), ParseResult::kFrame);
  EXPECT_EQ(v.type, RespType::kSimpleString);
  EXPECT_EQ(v.text, "OK");
  EXPECT_EQ(used, 5u);
  ASSERT_EQ(ParseAll(err, &v, &used), ParseResult::kFrame);
  EXPECT_EQ(v.type, RespType::kError);
  EXPECT_EQ(v.text, "ERR wrong number of arguments");
  ASSERT_EQ(ParseAll(integer, &v, &used), ParseResult::kFrame);
  EXPECT_EQ(v.type, RespType::kInteger);
  EXPECT_EQ(v.integer, -42);
  ASSERT_EQ(ParseAll(nil, &v, &used), ParseResult::kFrame);
  EXPECT_EQ(v.type, RespType::kNil);
  ASSERT_EQ(ParseAll(empty, &v, &used), ParseResult::kFrame);
  EXPECT_EQ(v.type, RespType::kBulkString);
  EXPECT_EQ(v.text, "");
  ASSERT_EQ(ParseAll(array, &v, &used), ParseResult::kFrame);
  EXPECT_EQ(v.type, RespType::kArray);
  EXPECT_EQ(v.integer, 3);
  EXPECT_EQ(used, array.size() - 7);  // the whole array, not the "+next" reply after it
}

TEST(KvbenchResp, BulkStringsCarryBinaryBytes) {
  const std::string payload("a\r\nb\0c", 6);
  const std::string wire = "$6\r\n" + payload + "\r\n";
  RespValue v;
  size_t used = 0;
  ASSERT_EQ(ParseAll(wire, &v, &used), ParseResult::kFrame);
  EXPECT_EQ(v.text, payload);
  EXPECT_EQ(used, wire.size());
}

TEST(KvbenchResp, EveryPrefixOfAReplyNeedsMore) {
  const std::string wire = "$11\r\nhello world\r\n";
  for (size_t n = 0; n < wire.size(); ++n) {
    RespValue v;
    size_t used = 0;
    base::Status error;
    EXPECT_EQ(ParseResp(wire.data(), n, &v, &used, &error), ParseResult::kNeedMore) << n;
  }
  const std::string array = "*2\r\n$1\r\na\r\n:7\r\n";
  for (size_t n = 0; n < array.size(); ++n) {
    RespValue v;
    size_t used = 0;
    base::Status error;
    EXPECT_EQ(ParseResp(array.data(), n, &v, &used, &error), ParseResult::kNeedMore) << n;
  }
}

TEST(KvbenchResp, MalformedRepliesAreErrors) {
  for (const std::string bad : {"?what\r\n", "$abc\r\n", "$-2\r\n", "$3\r\nabcXY", "+OK\rX", ":12a\r\n",
                                "*-5\r\n", "$99999999999\r\n"}) {
    RespValue v;
    size_t used = 0;
    base::Status error;
    EXPECT_EQ(ParseResp(bad.data(), bad.size(), &v, &used, &error), ParseResult::kError) << bad;
    EXPECT_TRUE(error.IsCorruption()) << bad;
  }
  const std::string endless(kMaxRespLineBytes + 10, 'x');
  RespValue v;
  size_t used = 0;
  base::Status error;
  EXPECT_EQ(ParseResp(("+" + endless).data(), endless.size() + 1, &v, &used, &error), ParseResult::kError);
}

// The error of parsing `wire`, which must be malformed.
std::string ParseError(const std::string& wire) {
  RespValue v;
  size_t used = 0;
  base::Status error;
  EXPECT_EQ(ParseResp(wire.data(), wire.size(), &v, &used, &error), ParseResult::kError) << wire;
  EXPECT_TRUE(error.IsCorruption()) << wire;
  return error.message();
}

TEST(KvbenchResp, AnEmptyLineIsAnErrorThatSaysSo) {
  // A line that starts with CR has no type byte and no text after one: its text
  // length would be -1.
  for (const std::string bad : {"\r\n", "\r\n+OK\r\n", "*2\r\n\r\n:1\r\n", "*1\r\n*1\r\n\r\n"}) {
    const std::string message = ParseError(bad);
    EXPECT_NE(message.find("empty line where a reply's type byte was expected"), std::string::npos) << message;
  }
  EXPECT_NE(ParseError("\rX").find("CR without LF"), std::string::npos);
}

TEST(KvbenchResp, LinesWithATypeByteAndNothingElseParseOrNameWhatIsMissing) {
  const std::string simple = "+\r\n", error = "-\r\n";
  RespValue v;
  size_t used = 0;
  ASSERT_EQ(ParseAll(simple, &v, &used), ParseResult::kFrame);
  EXPECT_EQ(v.type, RespType::kSimpleString);
  EXPECT_EQ(v.text, "");
  EXPECT_EQ(v.text.data(), simple.data() + 1);
  EXPECT_EQ(used, 3u);
  ASSERT_EQ(ParseAll(error, &v, &used), ParseResult::kFrame);
  EXPECT_EQ(v.type, RespType::kError);
  EXPECT_EQ(v.text, "");
  EXPECT_NE(ParseError(":\r\n").find("bad integer ''"), std::string::npos);
  EXPECT_NE(ParseError("$\r\n").find("bad bulk length ''"), std::string::npos);
  EXPECT_NE(ParseError("*\r\n").find("bad array length ''"), std::string::npos);
  EXPECT_NE(ParseError(":-\r\n").find("bad integer '-'"), std::string::npos);
}

// A byte that RESP gives a meaning to more often than chance would.
char RespishByte(base::Random* rnd) {
  static constexpr char kTokens[] = "+-:$*\r\n0123456789";
  if (rnd->OneIn(4)) return static_cast<char>(rnd->Next32());
  return kTokens[rnd->Uniform(sizeof(kTokens) - 1)];
}

// A well-formed reply: any type, arrays nested up to depth 3.
std::string ValidReply(base::Random* rnd, int depth = 0) {
  switch (rnd->Uniform(depth < 3 ? 6 : 5)) {
    case 0: return "+" + rnd->RandomString(rnd->Uniform(10)) + "\r\n";
    case 1: return "-ERR " + rnd->RandomString(rnd->Uniform(10)) + "\r\n";
    case 2: {
      const auto magnitude = static_cast<int64_t>(rnd->Next64() >> (5 + rnd->Uniform(59)));  // at most 18 digits
      return ":" + std::to_string(rnd->OneIn(2) ? magnitude : -magnitude) + "\r\n";
    }
    case 3: {
      std::string payload = rnd->RandomString(rnd->Uniform(20));
      return "$" + std::to_string(payload.size()) + "\r\n" + payload + "\r\n";
    }
    case 4: return rnd->OneIn(2) ? "$-1\r\n" : "*-1\r\n";
    default: {
      const int count = static_cast<int>(rnd->Uniform(4));
      std::string out = "*" + std::to_string(count) + "\r\n";
      for (int i = 0; i < count; ++i) out += ValidReply(rnd, depth + 1);
      return out;
    }
  }
}

void MutateReply(base::Random* rnd, std::string* bytes) {
  const int n = 1 + static_cast<int>(rnd->Uniform(4));
  for (int i = 0; i < n && !bytes->empty(); ++i) {
    const size_t at = rnd->Uniform(bytes->size());
    switch (rnd->Uniform(5)) {
      case 0: (*bytes)[at] = RespishByte(rnd); break;                    // overwrite a byte
      case 1: bytes->insert(at, 1, RespishByte(rnd)); break;             // insert one
      case 2: bytes->erase(at, 1 + rnd->Uniform(4)); break;              // drop some
      case 3: bytes->resize(at); break;                                  // truncate
      default: bytes->insert(at, bytes->substr(at, rnd->Uniform(8))); break;  // repeat a piece
    }
  }
}

// Parses the replies in `wire` one after another, as a connection would, from a
// heap buffer of exactly its size (so ASan sees any read past its end), and checks
// that every result stays inside the buffer.
void ParseStream(const std::string& wire) {
  const std::vector<char> buf(wire.begin(), wire.end());
  const char* const begin = buf.data();
  size_t offset = 0;
  while (offset < buf.size()) {
    RespValue v;
    size_t used = 0;
    base::Status error;
    const ParseResult r = ParseResp(begin + offset, buf.size() - offset, &v, &used, &error);
    if (r == ParseResult::kNeedMore) return;
    if (r == ParseResult::kError) {
      ASSERT_TRUE(error.IsCorruption()) << error.ToString();
      ASSERT_EQ(error.message().rfind("malformed Redis reply: ", 0), 0u) << error.message();
      return;
    }
    ASSERT_GT(used, 0u);
    ASSERT_LE(used, buf.size() - offset);
    if (v.type == RespType::kSimpleString || v.type == RespType::kError || v.type == RespType::kBulkString) {
      // As integers: gtest would print a char* operand as a C string, reading past the buffer.
      const auto at = reinterpret_cast<uintptr_t>(v.text.data());
      const auto lo = reinterpret_cast<uintptr_t>(begin + offset), hi = lo + used;
      ASSERT_TRUE(at >= lo && at <= hi && v.text.size() <= hi - at)
          << "text of " << v.text.size() << " bytes at offset " << (at - lo) << " of a " << used << "-byte reply";
    }
    offset += used;
  }
}

TEST(KvbenchResp, RandomAndMutatedRepliesNeverReadOutsideTheBuffer) {
  base::Random rnd(test::TestSeed("KvbenchResp.Fuzz"));
  for (int i = 0; i < 200000; ++i) {
    std::string wire;
    if (rnd.OneIn(3)) {
      wire.resize(rnd.Uniform(40));
      for (char& c : wire) c = RespishByte(&rnd);
    } else {
      const int replies = 1 + static_cast<int>(rnd.Uniform(3));
      for (int j = 0; j < replies; ++j) wire += ValidReply(&rnd);
      MutateReply(&rnd, &wire);
    }
    ParseStream(wire);
    if (::testing::Test::HasFatalFailure()) {
      ADD_FAILURE() << "on reply bytes '" << wire << "' (" << wire.size() << " bytes)";
      return;
    }
  }
}

TEST(KvbenchRespCodec, EncodesCommandsAsBulkArrays) {
  RespCodec codec(4);
  std::string out;
  EXPECT_FALSE(codec.AppendHandshake(&out));
  codec.AppendGet(&out, 1, "k1", 0);
  codec.AppendPut(&out, 2, "k2", "val", "", 0);
  EXPECT_EQ(out, "*2\r\n$3\r\nGET\r\n$2\r\nk1\r\n*3\r\n$3\r\nSET\r\n$2\r\nk2\r\n$3\r\nval\r\n");
}

TEST(KvbenchRespCodec, MatchesRepliesToRequestsInOrder) {
  RespCodec codec(2);  // more in flight than announced still works
  std::string out;
  codec.AppendGet(&out, 10, "a", 0);
  codec.AppendGet(&out, 11, "b", 0);
  codec.AppendPut(&out, 12, "c", "v", "", 0);
  codec.AppendGet(&out, 13, "d", 0);
  const std::string in = "$5\r\nhello\r\n$-1\r\n+OK\r\n-WRONGTYPE Operation against a key\r\n";
  std::vector<Reply> replies;
  size_t offset = 0;
  for (;;) {
    Reply r;
    size_t used = 0;
    base::Status error;
    ParseResult pr = codec.ParseReply(in.data() + offset, in.size() - offset, &r, &used, &error);
    if (pr != ParseResult::kFrame) {
      EXPECT_EQ(pr, ParseResult::kNeedMore);
      break;
    }
    replies.push_back(r);
    offset += used;
  }
  ASSERT_EQ(replies.size(), 4u);
  EXPECT_EQ(replies[0].tag, 10u);
  EXPECT_EQ(replies[0].kind, ReplyKind::kValue);
  EXPECT_EQ(replies[0].value, "hello");
  EXPECT_EQ(replies[1].tag, 11u);
  EXPECT_EQ(replies[1].kind, ReplyKind::kNotFound);
  EXPECT_EQ(replies[2].tag, 12u);
  EXPECT_EQ(replies[2].kind, ReplyKind::kStored);
  EXPECT_EQ(replies[3].tag, 13u);
  EXPECT_EQ(replies[3].kind, ReplyKind::kError);
  EXPECT_EQ(replies[3].error_kind, "WRONGTYPE");
}

TEST(KvbenchRespCodec, RejectsRepliesThatMatchNoRequest) {
  RespCodec codec(2);
  Reply r;
  size_t used = 0;
  base::Status error;
  EXPECT_EQ(codec.ParseReply("+OK\r\n", 5, &r, &used, &error), ParseResult::kError);
  std::string out;
  codec.AppendGet(&out, 1, "a", 0);
  EXPECT_EQ(codec.ParseReply("+OK\r\n", 5, &r, &used, &error), ParseResult::kError);  // GET answered +OK
  EXPECT_NE(error.message().find("unexpected Redis reply to GET"), std::string::npos);
}

// A reply frame as a kvnode would send it.
std::string ReplyFrame(net::Opcode op, uint32_t id, const base::Status& status, const std::string& payload) {
  std::string body;
  net::AppendStatus(&body, status);
  body += payload;
  std::string frame;
  net::AppendFrame(&frame, static_cast<uint8_t>(op), net::kFlagReply, id, body);
  return frame;
}

TEST(KvbenchKvCodec, RequestsCarryTheTagAsRequestIdAndTheConsistency) {
  KvCodec codec("main");
  std::string out;
  ASSERT_TRUE(codec.AppendHandshake(&out));
  codec.AppendGet(&out, 77, "key1", net::kConsistencyQuorum);
  codec.AppendPut(&out, 78, "key2", "value2", "ctx", 2);
  std::vector<net::Frame> frames;
  size_t offset = 0;
  while (offset < out.size()) {
    net::Frame f;
    size_t used = 0;
    base::Status error;
    ASSERT_EQ(net::ParseFrame(out.data() + offset, out.size() - offset, net::kDefaultMaxFrameBytes, &f, &used, &error),
              ParseResult::kFrame);
    frames.push_back(f);
    offset += used;
  }
  ASSERT_EQ(frames.size(), 3u);
  net::HelloRequest hello;
  ASSERT_TRUE(net::DecodeHello(frames[0].body, &hello));
  EXPECT_EQ(hello.role, net::PeerRole::kClient);
  EXPECT_EQ(hello.cluster, "main");
  EXPECT_EQ(frames[0].request_id, ProtocolCodec::kHelloTag);
  net::GetRequest get;
  ASSERT_TRUE(net::DecodeGet(frames[1].body, &get));
  EXPECT_EQ(frames[1].request_id, 77u);
  EXPECT_EQ(get.key, "key1");
  EXPECT_EQ(get.consistency, net::kConsistencyQuorum);
  net::PutRequest put;
  ASSERT_TRUE(net::DecodePut(frames[2].body, &put));
  EXPECT_EQ(frames[2].request_id, 78u);
  EXPECT_EQ(put.value, "value2");
  EXPECT_EQ(put.context, "ctx");
  EXPECT_EQ(put.consistency, 2);
}

TEST(KvbenchKvCodec, ParsesRepliesInAnyOrderWithSiblings) {
  std::string in;
  net::GetReply get;
  get.siblings = {net::Sibling{"old", "c1", 5}, net::Sibling{"new", "c2", 6}};
  get.context = "merged";
  std::string payload;
  net::EncodeGetReply(&payload, get);
  std::string receipt, missing;
  net::EncodeWriteReceipt(&receipt, net::WriteReceipt{{{"n1", false}}, "put-ctx", "clock"});
  net::EncodeNotFoundPayload(&missing, "missing-ctx");
  in += ReplyFrame(net::Opcode::kPut, 9, base::Status::OK(), receipt);
  in += ReplyFrame(net::Opcode::kGet, 4, base::Status::OK(), payload);
  in += ReplyFrame(net::Opcode::kGet, 5, base::Status::NotFound("no such key"), missing);
  in += ReplyFrame(net::Opcode::kPut, 6, base::Status::Unavailable("quorum not reached: 1 of 2"), "");
  KvCodec codec("");
  std::vector<uint32_t> tags;
  std::vector<ReplyKind> kinds;
  size_t offset = 0;
  while (offset < in.size()) {
    Reply r;
    size_t used = 0;
    base::Status error;
    ASSERT_EQ(codec.ParseReply(in.data() + offset, in.size() - offset, &r, &used, &error), ParseResult::kFrame)
        << error.ToString();
    tags.push_back(r.tag);
    kinds.push_back(r.kind);
    if (r.tag == 4) {
      std::vector<std::string> values;
      r.ForEachValue([&](std::string_view v) { values.emplace_back(v); });
      EXPECT_EQ(values, (std::vector<std::string>{"old", "new"}));
      EXPECT_EQ(r.context, "merged");
    }
    if (r.tag == 9) {
      EXPECT_EQ(r.context, "put-ctx");
    }
    if (r.tag == 5) {
      EXPECT_EQ(r.context, "missing-ctx");
    }
    if (r.tag == 6) {
      EXPECT_EQ(r.error_kind, "Unavailable");
      EXPECT_EQ(r.error, "quorum not reached: 1 of 2");
    }
    offset += used;
  }
  EXPECT_EQ(tags, (std::vector<uint32_t>{9, 4, 5, 6}));
  EXPECT_EQ(kinds, (std::vector<ReplyKind>{ReplyKind::kStored, ReplyKind::kValue, ReplyKind::kNotFound,
                                           ReplyKind::kError}));
}

// A HELLO reply naming `version` (docs/protocol.md section 12).
std::string HelloReplyFrame(uint16_t version) {
  std::string payload;
  net::EncodeHelloReply(&payload, net::HelloReply{version, "main", "n1"});
  return ReplyFrame(net::Opcode::kHello, ProtocolCodec::kHelloTag, base::Status::OK(), payload);
}

TEST(KvbenchKvCodec, AHelloReplyNamingTheClientsVersionIsAccepted) {
  const std::string hello = HelloReplyFrame(net::kProtocolVersion);
  KvCodec codec("main");
  Reply r;
  size_t used = 0;
  base::Status error;
  ASSERT_EQ(codec.ParseReply(hello.data(), hello.size(), &r, &used, &error), ParseResult::kFrame)
      << error.ToString();
  EXPECT_EQ(r.kind, ReplyKind::kHello);
  EXPECT_EQ(r.tag, ProtocolCodec::kHelloTag);
  EXPECT_EQ(used, hello.size());
}

TEST(KvbenchKvCodec, AHelloReplyNamingAnotherVersionIsRefusedNamingBoth) {
  // Another version: the one after ours, or before it if ours is the last one.
  const uint16_t other = net::kProtocolVersion == UINT16_MAX ? net::kProtocolVersion - 1 : net::kProtocolVersion + 1;
  const std::string hello = HelloReplyFrame(other);
  KvCodec codec("main");
  Reply r;
  size_t used = 0;
  base::Status error;
  ASSERT_EQ(codec.ParseReply(hello.data(), hello.size(), &r, &used, &error), ParseResult::kError);
  EXPECT_EQ(error.code(), base::Status::Code::kNotSupported) << error.ToString();
  EXPECT_NE(error.message().find("HELLO reply names protocol version " + std::to_string(other) +
                                 ", kvbench speaks version " + std::to_string(net::kProtocolVersion)),
            std::string::npos)
      << error.message();
}

TEST(KvbenchKvCodec, PartialFramesNeedMoreAndRequestFramesAreErrors) {
  const std::string frame = ReplyFrame(net::Opcode::kPut, 1, base::Status::OK(), "");
  KvCodec codec("");
  for (size_t n = 0; n < frame.size(); ++n) {
    Reply r;
    size_t used = 0;
    base::Status error;
    EXPECT_EQ(codec.ParseReply(frame.data(), n, &r, &used, &error), ParseResult::kNeedMore) << n;
  }
  std::string request;
  net::AppendFrame(&request, static_cast<uint8_t>(net::Opcode::kGet), 0, 1, "xx");
  Reply r;
  size_t used = 0;
  base::Status error;
  EXPECT_EQ(codec.ParseReply(request.data(), request.size(), &r, &used, &error), ParseResult::kError);
  const std::string bad_get = ReplyFrame(net::Opcode::kGet, 2, base::Status::OK(), "\x05");
  EXPECT_EQ(codec.ParseReply(bad_get.data(), bad_get.size(), &r, &used, &error), ParseResult::kError);
  EXPECT_NE(error.message().find("malformed GET reply"), std::string::npos);
}

}  // namespace
}  // namespace kvring::cmd::kvbench
