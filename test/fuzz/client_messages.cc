// test/fuzz/client_messages.cc — libFuzzer target: every client message codec of
// net/protocol.h (HELLO and its reply, AUTH, GET and its reply, PUT, DELETE, the
// write receipt in each protocol version, the NotFound payload, reply statuses).
// The first input byte picks the codec, the rest is the body.
// Invariant: whatever decodes re-encodes to a body that decodes to the same
// fields and encodes to the same bytes again (decode . encode is the identity on
// what a decoder accepts).
#include <functional>
#include <string>
#include <vector>

#include "net/protocol.h"
#include "test/fuzz/round_trip.h"

namespace kvring::fuzz {
namespace {

bool SameHello(const net::HelloRequest& a, const net::HelloRequest& b) {
  return a.version == b.version && a.role == b.role && a.cluster == b.cluster && a.id == b.id && a.nonce == b.nonce;
}
bool SameHelloReply(const net::HelloReply& a, const net::HelloReply& b) {
  return a.version == b.version && a.cluster == b.cluster && a.node_id == b.node_id && a.challenge == b.challenge;
}
bool SameGet(const net::GetRequest& a, const net::GetRequest& b) {
  return a.consistency == b.consistency && a.flags == b.flags && a.key == b.key;
}
bool SamePut(const net::PutRequest& a, const net::PutRequest& b) {
  return a.consistency == b.consistency && a.flags == b.flags && a.key == b.key && a.value == b.value &&
         a.context == b.context;
}
bool SameDelete(const net::DeleteRequest& a, const net::DeleteRequest& b) {
  return a.consistency == b.consistency && a.flags == b.flags && a.key == b.key && a.context == b.context;
}
bool SameGetReply(const net::GetReply& a, const net::GetReply& b) {
  if (a.context != b.context || a.siblings.size() != b.siblings.size()) return false;
  for (size_t i = 0; i < a.siblings.size(); ++i) {
    const auto &x = a.siblings[i], &y = b.siblings[i];
    if (x.value != y.value || x.clock != y.clock || x.timestamp_us != y.timestamp_us) return false;
  }
  return true;
}
bool SameReceipt(const net::WriteReceipt& a, const net::WriteReceipt& b) {
  if (a.context != b.context || a.clock != b.clock || a.acks.size() != b.acks.size()) return false;
  for (size_t i = 0; i < a.acks.size(); ++i) {
    const auto &x = a.acks[i], &y = b.acks[i];
    if (x.node_id != y.node_id || x.stand_in != y.stand_in || x.owner != y.owner) return false;
  }
  return true;
}

bool Receipt(std::string_view body, uint16_t version) {
  return CheckRoundTrip<net::WriteReceipt>(
      body, [version](std::string_view b, net::WriteReceipt* m) { return net::DecodeWriteReceipt(b, m, version); },
      [version](std::string* out, const net::WriteReceipt& m) { net::EncodeWriteReceipt(out, m, version); },
      SameReceipt);
}

// A reply's status and payload, re-encoded, parse back to the same status and payload.
bool ReplyStatus(std::string_view body) {
  base::Status status;
  std::string_view payload;
  if (!net::ParseReplyStatus(body, &status, &payload).ok()) return false;
  std::string again;
  net::AppendStatus(&again, status);
  again.append(payload);
  base::Status status2;
  std::string_view payload2;
  FUZZ_CHECK(net::ParseReplyStatus(again, &status2, &payload2).ok());
  FUZZ_CHECK(status2.code() == status.code() && status2.message() == status.message() && payload2 == payload);
  return true;
}

bool Decode(uint8_t selector, std::string_view body) {
  using std::string_view;
  switch (selector % 11) {
    case 0: return CheckRoundTrip<net::HelloRequest>(body, net::DecodeHello, net::EncodeHello, SameHello);
    case 1: return CheckRoundTrip<net::HelloReply>(body, net::DecodeHelloReply, net::EncodeHelloReply, SameHelloReply);
    case 2: return CheckRoundTrip<string_view>(body, net::DecodeAuth, net::EncodeAuth, std::equal_to<>());
    case 3: return CheckRoundTrip<net::GetRequest>(body, net::DecodeGet, net::EncodeGet, SameGet);
    case 4: return CheckRoundTrip<net::GetReply>(body, net::DecodeGetReply, net::EncodeGetReply, SameGetReply);
    case 5: return CheckRoundTrip<net::PutRequest>(body, net::DecodePut, net::EncodePut, SamePut);
    case 6: return CheckRoundTrip<net::DeleteRequest>(body, net::DecodeDelete, net::EncodeDelete, SameDelete);
    case 7: return CheckRoundTrip<string_view>(body, net::DecodeNotFoundPayload, net::EncodeNotFoundPayload,
                                          std::equal_to<>());
    case 8: return Receipt(body, 1);
    case 9: return Receipt(body, net::kProtocolVersion);
    default: return ReplyStatus(body);
  }
}

void Fuzz(uint8_t selector, std::string_view body) { Decode(selector, body); }

}  // namespace
}  // namespace kvring::fuzz

KV_FUZZ_TARGET_WITH_SELECTOR(kvring::fuzz::Fuzz)
