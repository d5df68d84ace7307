// kvbench's two wire codecs: the RESP parser and codec (redis://) and the kv
// codec over net/protocol.h (kv://).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cmd/kvbench/kv_codec.h"
#include "cmd/kvbench/resp_codec.h"
#include "cmd/kvbench/resp_parser.h"

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
