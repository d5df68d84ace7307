#include "repl/stream_messages.h"

#include "base/coding.h"
#include "repl/decode_errors.h"

namespace kvring::repl {

using base::GetFixed64;
using base::GetLengthPrefixed;
using base::GetVarint32;
using base::GetVarint64;
using base::PutFixed64;
using base::PutLengthPrefixed;
using base::PutVarint32;
using base::PutVarint64;
using base::Status;

namespace {

bool GetString(std::string_view* in, std::string* out) {
  std::string_view v;
  if (!GetLengthPrefixed(in, &v)) return false;
  out->assign(v);
  return true;
}

bool GetByte(std::string_view* in, uint8_t max, uint8_t* out) {
  if (in->empty() || static_cast<uint8_t>((*in)[0]) > max) return false;
  *out = static_cast<uint8_t>((*in)[0]);
  in->remove_prefix(1);
  return true;
}

bool GetRange(std::string_view* in, ring::TokenRange* range) {
  return GetFixed64(in, &range->start) && GetFixed64(in, &range->end);
}

void PutRange(std::string* dst, const ring::TokenRange& range) {
  PutFixed64(dst, range.start);
  PutFixed64(dst, range.end);
}

constexpr uint8_t kMaxKind = static_cast<uint8_t>(OperationKind::kSetWeight);
constexpr uint8_t kMaxState = static_cast<uint8_t>(OperationState::kFailed);
// The smallest stream: its range, two empty ids, three one-byte counts and done.
constexpr size_t kMinStreamBytes = 16 + 1 + 1 + 3 + 1;

}  // namespace

void EncodeStreamRead(std::string* dst, const StreamReadRequest& request) {
  PutRange(dst, request.range);
  PutLengthPrefixed(dst, request.after);
  PutVarint32(dst, request.max_bytes);
}

Status DecodeStreamRead(std::string_view body, StreamReadRequest* request) {
  if (!GetRange(&body, &request->range) || !GetString(&body, &request->after) ||
      !GetVarint32(&body, &request->max_bytes)) {
    return Malformed("STREAM_READ request", "truncated");
  }
  if (request->max_bytes == 0) return Malformed("STREAM_READ request", "max_bytes 0");
  return Trailing(body, "STREAM_READ request");
}

uint64_t StreamBatch::bytes() const {
  uint64_t n = 0;
  for (const StreamEntry& e : entries) n += e.key.size() + e.set.size();
  return n;
}

void EncodeStreamBatch(std::string* dst, const StreamBatch& batch) {
  dst->push_back(batch.more ? 1 : 0);
  PutVarint32(dst, static_cast<uint32_t>(batch.entries.size()));
  for (const StreamEntry& e : batch.entries) {
    PutLengthPrefixed(dst, e.key);
    PutLengthPrefixed(dst, e.set);
  }
}

Status DecodeStreamBatch(std::string_view payload, StreamBatch* batch) {
  uint8_t more = 0;
  uint32_t n = 0;
  if (!GetByte(&payload, 1, &more)) return Malformed("STREAM_READ reply", "truncated or bad header");
  KV_RETURN_IF_ERROR(GetCount(&payload, "STREAM_READ reply", 2, &n));
  batch->more = more == 1;
  batch->entries.assign(n, StreamEntry{});
  for (uint32_t i = 0; i < n; i++) {
    StreamEntry& e = batch->entries[i];
    if (!GetString(&payload, &e.key) || e.key.empty() || !GetString(&payload, &e.set)) {
      return Malformed("STREAM_READ reply", MalformedEntry("entry", i, n));
    }
  }
  return Trailing(payload, "STREAM_READ reply");
}

const char* OperationKindName(OperationKind kind) {
  switch (kind) {
    case OperationKind::kNone: return "none";
    case OperationKind::kJoin: return "join";
    case OperationKind::kDecommission: return "decommission";
    case OperationKind::kRemoveNode: return "removenode";
    case OperationKind::kReplace: return "replace";
    case OperationKind::kRebuild: return "rebuild";
    case OperationKind::kSetWeight: return "set-weight";
  }
  return "unknown";
}

const char* OperationStateName(OperationState state) {
  switch (state) {
    case OperationState::kNone: return "none";
    case OperationState::kAnnouncing: return "announcing";
    case OperationState::kStreaming: return "streaming";
    case OperationState::kDone: return "done";
    case OperationState::kFailed: return "failed";
  }
  return "unknown";
}

uint64_t MembershipProgress::bytes() const {
  uint64_t n = 0;
  for (const StreamProgress& s : streams) n += s.bytes;
  return n;
}

uint64_t MembershipProgress::keys() const {
  uint64_t n = 0;
  for (const StreamProgress& s : streams) n += s.keys;
  return n;
}

size_t MembershipProgress::streams_done() const {
  size_t n = 0;
  for (const StreamProgress& s : streams) n += s.done ? 1 : 0;
  return n;
}

void EncodeStreamProgress(std::string* dst, const StreamProgress& s) {
  PutRange(dst, s.range);
  PutLengthPrefixed(dst, s.source);
  PutLengthPrefixed(dst, s.destination);
  PutVarint64(dst, s.keys);
  PutVarint64(dst, s.bytes);
  PutVarint64(dst, s.bytes_again);
  dst->push_back(s.done ? 1 : 0);
}

bool DecodeStreamProgress(std::string_view* in, StreamProgress* s) {
  uint8_t done = 0;
  if (!GetRange(in, &s->range) || !GetString(in, &s->source) || !GetString(in, &s->destination) ||
      !GetVarint64(in, &s->keys) || !GetVarint64(in, &s->bytes) || !GetVarint64(in, &s->bytes_again) ||
      !GetByte(in, 1, &done)) {
    return false;
  }
  s->done = done == 1;
  return true;
}

void EncodeMembershipProgress(std::string* dst, const MembershipProgress& p) {
  dst->push_back(static_cast<char>(p.kind));
  PutLengthPrefixed(dst, p.target);
  dst->push_back(static_cast<char>(p.state));
  PutLengthPrefixed(dst, p.detail);
  PutVarint64(dst, p.started_wall_us);
  PutVarint64(dst, p.elapsed_us);
  PutVarint32(dst, static_cast<uint32_t>(p.streams.size()));
  for (const StreamProgress& s : p.streams) EncodeStreamProgress(dst, s);
}

Status DecodeMembershipProgress(std::string_view payload, MembershipProgress* p) {
  uint8_t kind = 0, state = 0;
  uint32_t n = 0;
  if (!GetByte(&payload, kMaxKind, &kind) || !GetString(&payload, &p->target) ||
      !GetByte(&payload, kMaxState, &state) || !GetString(&payload, &p->detail) ||
      !GetVarint64(&payload, &p->started_wall_us) || !GetVarint64(&payload, &p->elapsed_us)) {
    return Malformed("membership progress", "truncated or bad header");
  }
  KV_RETURN_IF_ERROR(GetCount(&payload, "membership progress", kMinStreamBytes, &n));
  p->kind = static_cast<OperationKind>(kind);
  p->state = static_cast<OperationState>(state);
  p->streams.assign(n, StreamProgress{});
  for (uint32_t i = 0; i < n; i++) {
    if (!DecodeStreamProgress(&payload, &p->streams[i])) {
      return Malformed("membership progress", MalformedEntry("stream", i, n));
    }
  }
  return Trailing(payload, "membership progress");
}

void EncodeMembershipChange(std::string* dst, OperationKind kind, std::string_view target) {
  dst->push_back(static_cast<char>(kind));
  PutLengthPrefixed(dst, target);
}

Status DecodeMembershipChange(std::string_view body, OperationKind* kind, std::string* target) {
  uint8_t k = 0;
  if (!GetByte(&body, kMaxKind, &k) || !GetString(&body, target)) {
    return Malformed("MEMBERSHIP_CHANGE request", "truncated or bad kind");
  }
  *kind = static_cast<OperationKind>(k);
  if (*kind == OperationKind::kNone || *kind == OperationKind::kReplace) {
    return Status::InvalidArgument(std::string("MEMBERSHIP_CHANGE: ") + OperationKindName(*kind) +
                                   " is not asked for by message (replace: start the new node with --replace ID)");
  }
  if (*kind == OperationKind::kRemoveNode && target->empty()) {
    return Status::InvalidArgument("MEMBERSHIP_CHANGE: removenode needs the id of the member to remove");
  }
  if (*kind == OperationKind::kSetWeight && target->empty()) {
    return Status::InvalidArgument("MEMBERSHIP_CHANGE: set-weight needs the new weight");
  }
  return Trailing(body, "MEMBERSHIP_CHANGE request");
}

}  // namespace kvring::repl
