#include "net/protocol.h"

#include <strings.h>

#include <cstdlib>

#include "base/coding.h"

namespace kvring::net {

using base::GetLengthPrefixed;
using base::PutLengthPrefixed;
using base::Status;

std::string OpcodeName(uint8_t opcode) {
  switch (static_cast<Opcode>(opcode)) {
    case Opcode::kHello: return "HELLO";
    case Opcode::kPing: return "PING";
    case Opcode::kAuth: return "AUTH";
    case Opcode::kGet: return "GET";
    case Opcode::kPut: return "PUT";
    case Opcode::kDelete: return "DELETE";
    case Opcode::kStats: return "STATS";
  }
  static const char* kDigits = "0123456789abcdef";
  return std::string("0x") + kDigits[opcode >> 4] + kDigits[opcode & 15];
}

ParseResult ParseFrame(const char* data, size_t n, uint32_t max_frame_bytes, Frame* frame,
                       size_t* consumed, Status* error) {
  if (n < 4) return ParseResult::kNeedMore;
  uint32_t length = base::DecodeFixed32(data);
  if (length < kFrameHeaderBytes - 4) {
    *error = Status::Corruption("frame length " + std::to_string(length) + " is shorter than the " +
                                std::to_string(kFrameHeaderBytes) + "-byte header");
    return ParseResult::kError;
  }
  if (length > max_frame_bytes) {
    *error = Status::TooLarge("frame of " + std::to_string(length) + " bytes exceeds the maximum of " +
                              std::to_string(max_frame_bytes));
    return ParseResult::kError;
  }
  if (n - 4 < length) return ParseResult::kNeedMore;
  frame->opcode = static_cast<uint8_t>(data[4]);
  frame->flags = static_cast<uint8_t>(data[5]);
  frame->request_id = base::DecodeFixed32(data + 6);
  frame->body = std::string_view(data + kFrameHeaderBytes, length - (kFrameHeaderBytes - 4));
  *consumed = 4 + static_cast<size_t>(length);
  return ParseResult::kFrame;
}

size_t BeginFrame(std::string* out, uint8_t opcode, uint8_t flags, uint32_t request_id) {
  size_t start = out->size();
  char header[kFrameHeaderBytes];
  base::EncodeFixed32(header, 0);
  header[4] = static_cast<char>(opcode);
  header[5] = static_cast<char>(flags);
  base::EncodeFixed32(header + 6, request_id);
  out->append(header, kFrameHeaderBytes);
  return start;
}

void FinishFrame(std::string* out, size_t start) {
  base::EncodeFixed32(out->data() + start, static_cast<uint32_t>(out->size() - start - 4));
}

void AppendFrame(std::string* out, uint8_t opcode, uint8_t flags, uint32_t request_id,
                 std::string_view body) {
  size_t start = BeginFrame(out, opcode, flags, request_id);
  out->append(body.data(), body.size());
  FinishFrame(out, start);
}

void AppendStatus(std::string* body, const Status& status) {
  body->push_back(static_cast<char>(status.code()));
  if (!status.ok()) PutLengthPrefixed(body, status.message());
}

Status ParseReplyStatus(std::string_view body, Status* status, std::string_view* payload) {
  if (body.empty()) return Status::Corruption("reply body is empty (no status byte)");
  auto code = static_cast<uint8_t>(body[0]);
  body.remove_prefix(1);
  if (code > static_cast<uint8_t>(Status::Code::kPermissionDenied)) {
    return Status::Corruption("reply carries unknown status code " + std::to_string(code));
  }
  if (code == 0) {
    *status = Status::OK();
    *payload = body;
    return Status::OK();
  }
  std::string_view message;
  if (!GetLengthPrefixed(&body, &message)) return Status::Corruption("error reply has a truncated message");
  *status = Status(static_cast<Status::Code>(code), message);
  *payload = body;
  return Status::OK();
}

bool ParseConsistency(std::string_view text, uint8_t* level) {
  std::string t(text);
  if (strcasecmp(t.c_str(), "one") == 0) { *level = 1; return true; }
  if (strcasecmp(t.c_str(), "quorum") == 0) { *level = kConsistencyQuorum; return true; }
  if (strcasecmp(t.c_str(), "all") == 0) { *level = kConsistencyAll; return true; }
  if (strcasecmp(t.c_str(), "default") == 0) { *level = kConsistencyDefault; return true; }
  if (strcasecmp(t.c_str(), "local_one") == 0) { *level = kConsistencyLocalOne; return true; }
  if (strcasecmp(t.c_str(), "local_quorum") == 0) { *level = kConsistencyLocalQuorum; return true; }
  if (strcasecmp(t.c_str(), "each_quorum") == 0) { *level = kConsistencyEachQuorum; return true; }
  if (t.empty() || t.size() > 3) return false;
  for (char c : t) {
    if (c < '0' || c > '9') return false;
  }
  long v = std::strtol(t.c_str(), nullptr, 10);
  if (v < 1 || v > 250) return false;
  *level = static_cast<uint8_t>(v);
  return true;
}

std::string ConsistencyName(uint8_t level) {
  if (level == kConsistencyDefault) return "default";
  if (level == kConsistencyQuorum) return "QUORUM";
  if (level == kConsistencyAll) return "ALL";
  if (level == kConsistencyLocalOne) return "LOCAL_ONE";
  if (level == kConsistencyLocalQuorum) return "LOCAL_QUORUM";
  if (level == kConsistencyEachQuorum) return "EACH_QUORUM";
  return std::to_string(level);
}

namespace {

bool GetByte(std::string_view* in, uint8_t* v) {
  if (in->empty()) return false;
  *v = static_cast<uint8_t>((*in)[0]);
  in->remove_prefix(1);
  return true;
}

}  // namespace

void EncodeHello(std::string* body, const HelloRequest& m) {
  base::PutFixed16(body, m.version);
  body->push_back(static_cast<char>(m.role));
  PutLengthPrefixed(body, m.cluster);
  PutLengthPrefixed(body, m.id);
  if (m.version >= 3) PutLengthPrefixed(body, m.nonce);
  if (m.version >= 3 && !m.user.empty()) PutLengthPrefixed(body, m.user);
}

bool DecodeHello(std::string_view body, HelloRequest* m) {
  uint8_t role;
  if (!base::GetFixed16(&body, &m->version) || !GetByte(&body, &role) || role > 1) return false;
  m->role = static_cast<PeerRole>(role);
  if (!GetLengthPrefixed(&body, &m->cluster) || !GetLengthPrefixed(&body, &m->id)) return false;
  m->nonce = {};
  m->user = {};
  if (m->version >= 3 && !GetLengthPrefixed(&body, &m->nonce)) return false;
  if (m->version >= 3 && !body.empty() && (!GetLengthPrefixed(&body, &m->user) || m->user.empty())) return false;
  return body.empty();
}

void EncodeHelloReply(std::string* payload, const HelloReply& m) {
  base::PutFixed16(payload, m.version);
  PutLengthPrefixed(payload, m.cluster);
  PutLengthPrefixed(payload, m.node_id);
  if (m.version >= 3) PutLengthPrefixed(payload, m.challenge);
}

bool DecodeHelloReply(std::string_view payload, HelloReply* m) {
  if (!base::GetFixed16(&payload, &m->version) || !GetLengthPrefixed(&payload, &m->cluster) ||
      !GetLengthPrefixed(&payload, &m->node_id)) {
    return false;
  }
  m->challenge = {};
  if (m->version >= 3 && !GetLengthPrefixed(&payload, &m->challenge)) return false;
  return payload.empty();
}

void EncodeAuth(std::string* body, std::string_view proof) { PutLengthPrefixed(body, proof); }

bool DecodeAuth(std::string_view body, std::string_view* proof) {
  return GetLengthPrefixed(&body, proof) && body.empty();
}

void EncodeGet(std::string* body, const GetRequest& m) {
  body->push_back(static_cast<char>(m.consistency));
  body->push_back(static_cast<char>(m.flags));
  PutLengthPrefixed(body, m.key);
}

bool DecodeGet(std::string_view body, GetRequest* m) {
  return GetByte(&body, &m->consistency) && GetByte(&body, &m->flags) &&
         GetLengthPrefixed(&body, &m->key) && body.empty();
}

GetReplyWriter::GetReplyWriter(std::string* out, uint32_t count) : out_(out) { base::PutVarint32(out, count); }

void GetReplyWriter::Add(std::string_view value, std::string_view clock, uint64_t timestamp_us) {
  PutLengthPrefixed(out_, value);
  PutLengthPrefixed(out_, clock);
  base::PutVarint64(out_, timestamp_us);
}

void GetReplyWriter::Finish(std::string_view context) { PutLengthPrefixed(out_, context); }

void EncodeGetReply(std::string* payload, const GetReply& m) {
  GetReplyWriter writer(payload, static_cast<uint32_t>(m.siblings.size()));
  for (const auto& s : m.siblings) writer.Add(s.value, s.clock, s.timestamp_us);
  writer.Finish(m.context);
}

bool DecodeGetReply(std::string_view payload, GetReply* m) {
  uint32_t count;
  if (!base::GetVarint32(&payload, &count)) return false;
  // Each sibling takes at least 3 bytes: reject counts the payload cannot hold
  // before reserving memory for them.
  if (count > payload.size() / 3) return false;
  m->siblings.clear();
  m->siblings.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    Sibling s;
    if (!GetLengthPrefixed(&payload, &s.value) || !GetLengthPrefixed(&payload, &s.clock) ||
        !base::GetVarint64(&payload, &s.timestamp_us)) {
      return false;
    }
    m->siblings.push_back(s);
  }
  return GetLengthPrefixed(&payload, &m->context) && payload.empty();
}

void EncodePut(std::string* body, const PutRequest& m) {
  body->push_back(static_cast<char>(m.consistency));
  body->push_back(static_cast<char>(m.flags));
  PutLengthPrefixed(body, m.key);
  PutLengthPrefixed(body, m.value);
  PutLengthPrefixed(body, m.context);
}

bool DecodePut(std::string_view body, PutRequest* m) {
  return GetByte(&body, &m->consistency) && GetByte(&body, &m->flags) &&
         GetLengthPrefixed(&body, &m->key) && GetLengthPrefixed(&body, &m->value) &&
         GetLengthPrefixed(&body, &m->context) && body.empty();
}

void EncodeDelete(std::string* body, const DeleteRequest& m) {
  body->push_back(static_cast<char>(m.consistency));
  body->push_back(static_cast<char>(m.flags));
  PutLengthPrefixed(body, m.key);
  PutLengthPrefixed(body, m.context);
}

bool DecodeDelete(std::string_view body, DeleteRequest* m) {
  return GetByte(&body, &m->consistency) && GetByte(&body, &m->flags) &&
         GetLengthPrefixed(&body, &m->key) && GetLengthPrefixed(&body, &m->context) && body.empty();
}

void EncodeWriteReceipt(std::string* payload, const WriteReceipt& m, uint16_t version) {
  base::PutVarint32(payload, static_cast<uint32_t>(m.acks.size()));
  for (const auto& a : m.acks) {
    PutLengthPrefixed(payload, a.node_id);
    payload->push_back(a.stand_in ? 1 : 0);
    if (version >= 2) PutLengthPrefixed(payload, a.owner);
  }
  if (version < 2) return;
  PutLengthPrefixed(payload, m.context);
  PutLengthPrefixed(payload, m.clock);
}

bool DecodeWriteReceipt(std::string_view payload, WriteReceipt* m, uint16_t version) {
  uint32_t count;
  if (!base::GetVarint32(&payload, &count) || count > payload.size() / 2) return false;
  m->acks.clear();
  for (uint32_t i = 0; i < count; ++i) {
    WriteAck a;
    uint8_t flag;
    if (!GetLengthPrefixed(&payload, &a.node_id) || !GetByte(&payload, &flag) || flag > 1) return false;
    a.stand_in = flag == 1;
    if (version >= 2 && !GetLengthPrefixed(&payload, &a.owner)) return false;
    m->acks.push_back(a);
  }
  m->context = {};
  m->clock = {};
  if (version >= 2 && (!GetLengthPrefixed(&payload, &m->context) || !GetLengthPrefixed(&payload, &m->clock))) {
    return false;
  }
  return payload.empty();
}

void EncodeNotFoundPayload(std::string* payload, std::string_view context) { PutLengthPrefixed(payload, context); }

bool DecodeNotFoundPayload(std::string_view payload, std::string_view* context) {
  return GetLengthPrefixed(&payload, context) && payload.empty();
}

}  // namespace kvring::net
