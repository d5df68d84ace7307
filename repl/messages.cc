#include "repl/messages.h"

#include <cmath>
#include <cstring>

#include "base/coding.h"
#include "net/protocol.h"
#include "repl/client_context.h"
#include "repl/value_format.h"

namespace kvring::repl {

using base::GetLengthPrefixed;
using base::PutLengthPrefixed;
using base::Status;

namespace {

bool GetByte(std::string_view* in, uint8_t* v) {
  if (in->empty()) return false;
  *v = static_cast<uint8_t>((*in)[0]);
  in->remove_prefix(1);
  return true;
}

bool GetString(std::string_view* in, std::string* out) {
  std::string_view v;
  if (!GetLengthPrefixed(in, &v)) return false;
  out->assign(v.data(), v.size());
  return true;
}

void PutDouble(std::string* dst, double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, 8);
  base::PutFixed64(dst, bits);
}

bool GetDouble(std::string_view* in, double* v) {
  uint64_t bits;
  if (!base::GetFixed64(in, &bits)) return false;
  std::memcpy(v, &bits, 8);
  return std::isfinite(*v);
}

// Set in the weight field when a token id follows (a replacement holding a dead
// member's virtual nodes); weights stay far below it.
constexpr uint32_t kMemberHasTokenId = 1u << 31;
// Set when the weight after a weight change follows (weight x 1000, varint32).
constexpr uint32_t kMemberHasNextWeight = 1u << 30;
constexpr uint32_t kMemberFlags = kMemberHasTokenId | kMemberHasNextWeight;

}  // namespace

void EncodeMember(std::string* dst, const ring::NodeInfo& node, double next_weight) {
  PutLengthPrefixed(dst, node.id);
  PutLengthPrefixed(dst, node.address);
  PutLengthPrefixed(dst, node.dc);
  PutLengthPrefixed(dst, node.rack);
  uint32_t field = static_cast<uint32_t>(std::lround(node.weight * 1000));
  if (!node.token_id.empty()) field |= kMemberHasTokenId;
  if (next_weight > 0) field |= kMemberHasNextWeight;
  base::PutVarint32(dst, field);
  if (!node.token_id.empty()) PutLengthPrefixed(dst, node.token_id);
  if (next_weight > 0) base::PutVarint32(dst, static_cast<uint32_t>(std::lround(next_weight * 1000)));
}

bool DecodeMember(std::string_view* input, ring::NodeInfo* node, double* next_weight) {
  uint32_t field, next_milli = 0;
  if (!GetString(input, &node->id) || !GetString(input, &node->address) || !GetString(input, &node->dc) ||
      !GetString(input, &node->rack) || !base::GetVarint32(input, &field)) {
    return false;
  }
  node->token_id.clear();
  if ((field & kMemberHasTokenId) != 0 && (!GetString(input, &node->token_id) || node->token_id.empty())) return false;
  if ((field & kMemberHasNextWeight) != 0 && (!base::GetVarint32(input, &next_milli) || next_milli == 0)) return false;
  node->weight = (field & ~kMemberFlags) / 1000.0;
  if (next_weight != nullptr) *next_weight = next_milli / 1000.0;
  return true;
}

void EncodeReplicaReadReply(std::string* dst, const SiblingSet* set) {
  dst->push_back(set ? 1 : 0);
  if (set) {
    std::string bytes;
    EncodeSiblingSet(*set, &bytes);
    PutLengthPrefixed(dst, bytes);
  }
}

Status DecodeReplicaReadReply(std::string_view payload, bool* found, SiblingSet* set) {
  uint8_t flag;
  if (!GetByte(&payload, &flag) || flag > 1) return Status::Corruption("replica read reply: bad found flag");
  *found = flag == 1;
  if (!*found) {
    if (!payload.empty()) return Status::Corruption("replica read reply: trailing bytes");
    return Status::OK();
  }
  std::string_view bytes;
  if (!GetLengthPrefixed(&payload, &bytes) || !payload.empty()) {
    return Status::Corruption("replica read reply: truncated sibling set");
  }
  auto decoded = DecodeSiblingSet(bytes);
  if (!decoded.ok()) return decoded.status().WithContext("replica read reply");
  *set = std::move(decoded).value();
  return Status::OK();
}

void EncodeReplicaWrite(std::string* dst, std::string_view key, const SiblingSet& set) {
  PutLengthPrefixed(dst, key);
  std::string bytes;
  EncodeSiblingSet(set, &bytes);
  PutLengthPrefixed(dst, bytes);
}

Status DecodeReplicaWrite(std::string_view body, std::string_view* key, SiblingSet* set) {
  std::string_view bytes;
  if (!GetLengthPrefixed(&body, key) || !GetLengthPrefixed(&body, &bytes) || !body.empty()) {
    return Status::InvalidArgument("replica write: malformed body");
  }
  auto decoded = DecodeSiblingSet(bytes);
  if (!decoded.ok()) return decoded.status().WithContext("replica write");
  *set = std::move(decoded).value();
  return Status::OK();
}

void EncodeHintedWrite(std::string* dst, std::string_view owner, std::string_view replica_write_body) {
  PutLengthPrefixed(dst, owner);
  dst->append(replica_write_body);
}

Status DecodeHintedWrite(std::string_view body, std::string_view* owner, std::string_view* key, SiblingSet* set) {
  if (!GetLengthPrefixed(&body, owner) || owner->empty()) return Status::InvalidArgument("malformed HINTED_WRITE body");
  return DecodeReplicaWrite(body, key, set);
}

void EncodeForwardWrite(std::string* dst, const ForwardWrite& m) {
  dst->push_back(static_cast<char>(m.kind));
  dst->push_back(static_cast<char>(m.consistency));
  dst->push_back(static_cast<char>(m.flags));
  PutLengthPrefixed(dst, m.key);
  PutLengthPrefixed(dst, m.value);
  PutLengthPrefixed(dst, m.context);
}

bool DecodeForwardWrite(std::string_view body, ForwardWrite* m) {
  uint8_t kind;
  if (!GetByte(&body, &kind) || kind > 1) return false;
  m->kind = static_cast<WriteKind>(kind);
  return GetByte(&body, &m->consistency) && GetByte(&body, &m->flags) && GetLengthPrefixed(&body, &m->key) &&
         GetLengthPrefixed(&body, &m->value) && GetLengthPrefixed(&body, &m->context) && body.empty();
}

void EncodeGetReply(const SiblingSet& set, const ContextKey& mac_key, std::string_view key, std::string* payload) {
  uint32_t live = 0;
  for (const auto& s : set.siblings()) live += s.tombstone ? 0 : 1;
  net::GetReplyWriter writer(payload, live);
  std::string scratch;  // one clock, then the context
  for (const auto& s : set.siblings()) {
    if (s.tombstone) continue;
    scratch.clear();
    EncodeSiblingClock(&scratch, s);
    writer.Add(s.value, scratch, s.timestamp_micros);
  }
  scratch.clear();
  EncodeClientContext(mac_key, key, set.history(), &scratch);
  writer.Finish(scratch);
}

void EncodeNotFound(const SiblingSet* set, const ContextKey& mac_key, std::string_view key, std::string* payload) {
  std::string context;
  EncodeClientContext(mac_key, key, set != nullptr ? set->history() : VersionVector(), &context);
  net::EncodeNotFoundPayload(payload, context);
}

void EncodeSiblingClock(std::string* dst, const Sibling& sibling) {
  PutLengthPrefixed(dst, sibling.dot.node);
  base::PutVarint64(dst, sibling.dot.counter);
  sibling.context.EncodeTo(dst);
}

Status DecodeSiblingClock(std::string_view bytes, Dot* dot, VersionVector* context) {
  if (!GetString(&bytes, &dot->node) || !base::GetVarint64(&bytes, &dot->counter)) {
    return Status::Corruption("sibling clock: truncated dot");
  }
  KV_RETURN_IF_ERROR(context->DecodeFrom(&bytes));
  if (!bytes.empty()) return Status::Corruption("sibling clock: trailing bytes");
  return Status::OK();
}

void EncodeRingDescription(std::string* dst, const RingDescription& ring) {
  base::PutFixed64(dst, ring.fingerprint);
  base::PutVarint64(dst, ring.version);
  PutLengthPrefixed(dst, ring.replication);
  base::PutVarint32(dst, static_cast<uint32_t>(ring.members.size()));
  for (const auto& m : ring.members) {
    EncodeMember(dst, m.node);
    base::PutVarint32(dst, m.vnodes);
    PutDouble(dst, m.replica_share);
    PutDouble(dst, m.primary_share);
  }
}

bool DecodeRingDescription(std::string_view payload, RingDescription* ring) {
  uint32_t count;
  if (!base::GetFixed64(&payload, &ring->fingerprint) || !base::GetVarint64(&payload, &ring->version) ||
      !GetString(&payload, &ring->replication) ||
      !base::GetVarint32(&payload, &count) || count > payload.size()) {
    return false;
  }
  ring->members.clear();
  for (uint32_t i = 0; i < count; ++i) {
    RingMember m;
    if (!DecodeMember(&payload, &m.node) || !base::GetVarint32(&payload, &m.vnodes) ||
        !GetDouble(&payload, &m.replica_share) || !GetDouble(&payload, &m.primary_share)) {
      return false;
    }
    ring->members.push_back(std::move(m));
  }
  return payload.empty();
}

void EncodeClusterStatus(std::string* dst, const std::vector<MemberReport>& members) {
  base::PutVarint32(dst, static_cast<uint32_t>(members.size()));
  for (const auto& m : members) {
    EncodeMemberState(dst, m.state);
    dst->push_back(static_cast<char>(m.liveness));
    dst->push_back(m.self ? 1 : 0);
    base::PutVarint64(dst, m.heartbeat_age_ms);
    base::PutVarint32(dst, static_cast<uint32_t>(m.suspected_by.size()));
    for (const auto& id : m.suspected_by) PutLengthPrefixed(dst, id);
    base::PutVarint64(dst, m.hints_for_it);
    PutLengthPrefixed(dst, m.detail);
  }
}

namespace {

bool DecodeReport(std::string_view* in, MemberReport* m) {
  uint8_t liveness, self;
  uint32_t n;
  if (!DecodeMemberState(in, &m->state) || !GetByte(in, &liveness) || liveness > 2 || !GetByte(in, &self) ||
      self > 1 || !base::GetVarint64(in, &m->heartbeat_age_ms) || !base::GetVarint32(in, &n) || n > in->size()) {
    return false;
  }
  m->liveness = static_cast<Liveness>(liveness);
  m->self = self == 1;
  m->suspected_by.resize(n);
  for (auto& id : m->suspected_by) {
    if (!GetString(in, &id)) return false;
  }
  return base::GetVarint64(in, &m->hints_for_it) && GetString(in, &m->detail);
}

}  // namespace

bool DecodeClusterStatus(std::string_view payload, std::vector<MemberReport>* members) {
  uint32_t count;
  if (!base::GetVarint32(&payload, &count) || count > payload.size()) return false;
  members->clear();
  for (uint32_t i = 0; i < count; ++i) {
    MemberReport m;
    if (!DecodeReport(&payload, &m)) return false;
    members->push_back(std::move(m));
  }
  return payload.empty();
}

}  // namespace kvring::repl
