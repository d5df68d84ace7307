// net/protocol.h — kvring's binary protocol: framing and the message bodies.
// Byte-by-byte specification: docs/protocol.md. Client and node-to-node traffic
// share the framing; repl/ defines its own opcodes in the node range (0x40-0x7f).
//
//   frame  := length:fixed32 opcode:u8 flags:u8 request_id:fixed32 body
//   length := bytes after the length field (6 + body size)
//   flags  := bit0 reply; other bits reserved (0)
//   reply body := status:u8 message:lp [payload]  when status != OK
//               | status:u8 payload               when status == OK (0)
//
// Versions: this code speaks version 3 (kProtocolVersion); a server also accepts
// version-1 and -2 clients (kMinProtocolVersion) and answers them in their
// layouts (version 1: no context after a GET's NotFound, no context or clock in a
// write receipt; versions 1 and 2: no nonce in HELLO, no challenge in its reply).
//
// lp = varint32 length + bytes. Decoded views (std::string_view) point into the
// frame's bytes and live as long as that buffer.
// On-wire values (opcodes, flags, status codes): never renumber.
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace kvring::net {

constexpr uint16_t kProtocolVersion = 3;
constexpr uint16_t kMinProtocolVersion = 1;  // the oldest version a server still accepts
constexpr size_t kFrameHeaderBytes = 10;
constexpr uint32_t kDefaultMaxFrameBytes = 16u << 20;

enum class Opcode : uint8_t {
  kHello = 0x01,
  kPing = 0x02,
  kAuth = 0x03,  // the cluster handshake's second step (version 3, net/hello_auth.h)
  // Client data operations.
  kGet = 0x10,
  kPut = 0x11,
  kDelete = 0x12,
  // Client admin operations.
  kStats = 0x20,
  // 0x21-0x3f: cluster admin (ring, status, join, decommission, repair).
  // 0x40-0x7f: node-to-node (repl/).
};

constexpr uint8_t kFlagReply = 0x01;

// "HELLO", "GET", ... for the opcodes above, "0x41" for any other (logs, errors).
std::string OpcodeName(uint8_t opcode);

struct Frame {
  uint8_t opcode = 0;
  uint8_t flags = 0;
  uint32_t request_id = 0;
  std::string_view body;
  bool is_reply() const { return (flags & kFlagReply) != 0; }
};

enum class ParseResult { kNeedMore, kFrame, kError };

// Parses one frame from the front of [data, data+n). kFrame: *frame is filled and
// *consumed says how many bytes it took. kNeedMore: a partial frame (nothing
// consumed). kError: *error names the problem (a length over max_frame_bytes, a
// length shorter than the header); the connection should be closed.
ParseResult ParseFrame(const char* data, size_t n, uint32_t max_frame_bytes, Frame* frame,
                       size_t* consumed, base::Status* error);

// Writes a frame header with a placeholder length; returns the frame's start offset
// in *out. Append the body, then call FinishFrame(out, start).
size_t BeginFrame(std::string* out, uint8_t opcode, uint8_t flags, uint32_t request_id);
void FinishFrame(std::string* out, size_t start);
// BeginFrame + body + FinishFrame.
void AppendFrame(std::string* out, uint8_t opcode, uint8_t flags, uint32_t request_id,
                 std::string_view body);

// Reply bodies: the status byte, then the message when not OK.
void AppendStatus(std::string* body, const base::Status& status);
// Splits a reply body into its status and payload; Corruption on malformed bodies.
base::Status ParseReplyStatus(std::string_view body, base::Status* status, std::string_view* payload);

// --- Consistency levels (R and W) -----------------------------------------------------
// 0 = the coordinator's default; 1..250 = that many replicas; named levels above
// (what each counts: repl/quorum.h).
constexpr uint8_t kConsistencyDefault = 0;
constexpr uint8_t kConsistencyLocalOne = 251;     // one replica in the coordinator's datacenter
constexpr uint8_t kConsistencyLocalQuorum = 252;  // a quorum of the coordinator's datacenter's replicas
constexpr uint8_t kConsistencyEachQuorum = 253;   // a quorum in every datacenter
constexpr uint8_t kConsistencyQuorum = 254;
constexpr uint8_t kConsistencyAll = 255;
// "ONE", "QUORUM", "ALL", "LOCAL_ONE", "LOCAL_QUORUM", "EACH_QUORUM", "default" or
// a number 1..250 (case-insensitive names).
bool ParseConsistency(std::string_view text, uint8_t* level);
std::string ConsistencyName(uint8_t level);
// Every byte is a level now (251..253 were reserved until the per-datacenter ones).
constexpr bool ValidConsistency(uint8_t) { return true; }
// LOCAL_ONE or LOCAL_QUORUM: counted in the coordinator's datacenter.
constexpr bool IsLocalConsistency(uint8_t level) {
  return level == kConsistencyLocalOne || level == kConsistencyLocalQuorum;
}

// --- Messages ---------------------------------------------------------------------------
enum class PeerRole : uint8_t { kClient = 0, kNode = 1 };

// HELLO := version:fixed16 role:u8 cluster:lp id:lp [nonce:lp [user:lp], version >= 3]
struct HelloRequest {
  uint16_t version = kProtocolVersion;
  PeerRole role = PeerRole::kClient;
  std::string_view cluster;
  std::string_view id;
  std::string_view nonce;  // the handshake's client nonce (a node, or a client with a user); empty otherwise
  std::string_view user;   // a client's user name (net/client_auth.h); empty: none (not encoded)
};
// HELLO reply := version:fixed16 cluster:lp node_id:lp [challenge:lp, version >= 3]
// With a challenge (a node's: server_nonce || server_proof; a client's:
// server_nonce || salt || iterations) the cluster and node id are empty: the
// server names itself only in the AUTH reply, whose challenge field carries a
// client's server signature.
struct HelloReply {
  uint16_t version = kProtocolVersion;
  std::string_view cluster;
  std::string_view node_id;
  std::string_view challenge;
};

constexpr uint8_t kGetFlagLocal = 0x01;   // read only the receiving node's store
constexpr uint8_t kGetFlagStrict = 0x02;  // strict quorum: only the key's owners count towards R
// PUT and DELETE flags. OVERWRITE: supersede whatever the coordinating replica
// holds for the key, seen or not (last-writer-wins; docs/versioning.md says what
// it can lose). Without it a write supersedes exactly what its context covers.
constexpr uint8_t kWriteFlagOverwrite = 0x01;
// STRICT: only the key's owners count towards W (no sloppy-quorum stand-ins).
constexpr uint8_t kWriteFlagStrict = 0x02;

struct GetRequest {
  uint8_t consistency = kConsistencyDefault;
  uint8_t flags = 0;
  std::string_view key;
};

// One concurrent version of a value. clock is the encoded vector clock (repl/
// decodes it; empty on a node without replication).
struct Sibling {
  std::string_view value;
  std::string_view clock;
  uint64_t timestamp_us = 0;
};

struct GetReply {
  std::vector<Sibling> siblings;
  std::string_view context;  // opaque; hand it back on a put/delete to supersede these
};

struct PutRequest {
  uint8_t consistency = kConsistencyDefault;
  uint8_t flags = 0;
  std::string_view key;
  std::string_view value;
  std::string_view context;  // empty: no context (the write supersedes nothing)
};

struct DeleteRequest {
  uint8_t consistency = kConsistencyDefault;
  uint8_t flags = 0;
  std::string_view key;
  std::string_view context;
};

// Which replicas acknowledged a write.
struct WriteAck {
  std::string_view node_id;
  bool stand_in = false;   // a sloppy-quorum stand-in holding a hint for the owner
  std::string_view owner;  // version 2: the owner a stand-in holds the write for ("" otherwise)
};
struct WriteReceipt {
  std::vector<WriteAck> acks;
  // Version 2: the new version's context (what the write's context covered plus
  // its own dot: hand it to the next put to supersede this write and nothing
  // else) and its clock (as a GET sibling's clock). Empty in version 1.
  std::string_view context;
  std::string_view clock;
};

// AUTH := proof:lp; its OK reply is a HELLO reply without a challenge.
void EncodeAuth(std::string* body, std::string_view proof);
bool DecodeAuth(std::string_view body, std::string_view* proof);
void EncodeHello(std::string* body, const HelloRequest& m);
bool DecodeHello(std::string_view body, HelloRequest* m);
void EncodeHelloReply(std::string* payload, const HelloReply& m);
bool DecodeHelloReply(std::string_view payload, HelloReply* m);

void EncodeGet(std::string* body, const GetRequest& m);
bool DecodeGet(std::string_view body, GetRequest* m);
void EncodeGetReply(std::string* payload, const GetReply& m);
// The one GET reply encoder: writes the payload straight into *out, sibling by
// sibling (what EncodeGetReply and the node's reply path both use).
//   GetReplyWriter w(out, count);  w.Add(value, clock, ts) x count;  w.Finish(context);
class GetReplyWriter {
 public:
  GetReplyWriter(std::string* out, uint32_t count);
  void Add(std::string_view value, std::string_view clock, uint64_t timestamp_us);
  void Finish(std::string_view context);

 private:
  std::string* const out_;
};
bool DecodeGetReply(std::string_view payload, GetReply* m);

void EncodePut(std::string* body, const PutRequest& m);
bool DecodePut(std::string_view body, PutRequest* m);
void EncodeDelete(std::string* body, const DeleteRequest& m);
bool DecodeDelete(std::string_view body, DeleteRequest* m);
// `version`: the layout of that protocol version (1: acks only).
void EncodeWriteReceipt(std::string* payload, const WriteReceipt& m, uint16_t version = kProtocolVersion);
bool DecodeWriteReceipt(std::string_view payload, WriteReceipt* m, uint16_t version = kProtocolVersion);

// The payload of a GET's NotFound reply in version 2: the key's causal history
// at the replicas that answered (an empty history when the key never existed).
//   not_found := context:lp
void EncodeNotFoundPayload(std::string* payload, std::string_view context);
bool DecodeNotFoundPayload(std::string_view payload, std::string_view* context);

// STATS reply payload: text:lp ("name value" lines).

}  // namespace kvring::net
