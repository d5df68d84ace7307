#include "repl/aae_messages.h"

#include <array>

#include "base/coding.h"
#include "repl/decode_errors.h"
#include "repl/value_format.h"

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

bool GetLeaf(std::string_view* in, LeafHash* leaf) {
  return GetFixed64(in, &leaf->begin) && GetFixed64(in, &leaf->end) && GetFixed64(in, &leaf->hash) &&
         GetVarint64(in, &leaf->keys);
}

void PutLeaf(std::string* dst, const LeafHash& leaf) {
  PutFixed64(dst, leaf.begin);
  PutFixed64(dst, leaf.end);
  PutFixed64(dst, leaf.hash);
  PutVarint64(dst, leaf.keys);
}

// An optional set: present:u8 [set:lp].
void PutOptionalSet(std::string* dst, const std::optional<SiblingSet>& set) {
  dst->push_back(set ? 1 : 0);
  if (set) PutLengthPrefixed(dst, EncodeSiblingSet(*set));
}

Status GetOptionalSet(std::string_view* in, std::optional<SiblingSet>* set) {
  if (in->empty() || static_cast<uint8_t>((*in)[0]) > 1) return Status::Corruption("bad presence byte");
  const bool present = (*in)[0] == 1;
  in->remove_prefix(1);
  set->reset();
  if (!present) return Status::OK();
  std::string_view bytes;
  if (!GetLengthPrefixed(in, &bytes)) return Status::Corruption("truncated set");
  base::Result<SiblingSet> decoded = DecodeSiblingSet(bytes);
  if (!decoded.ok()) return decoded.status();
  *set = std::move(decoded).value();
  return Status::OK();
}

// Decodes count:varint32 entry{count}: get_one(in, entry, &why) reads one entry
// (false: malformed, `why` may say more); each entry takes at least min_bytes.
template <typename T, typename GetOne>
Status DecodeList(std::string_view in, const char* what, const char* noun, size_t min_bytes, std::vector<T>* out,
                  GetOne get_one) {
  uint32_t n;
  KV_RETURN_IF_ERROR(GetCount(&in, what, min_bytes, &n));
  out->assign(n, T{});
  for (uint32_t i = 0; i < n; i++) {
    std::string why;
    if (!get_one(&in, &(*out)[i], &why)) return Malformed(what, MalformedEntry(noun, i, n) + why);
  }
  return Trailing(in, what);
}

}  // namespace

void EncodeRangeHashes(std::string* dst, const std::vector<RangeHashEntry>& ranges) {
  PutVarint32(dst, static_cast<uint32_t>(ranges.size()));
  for (const RangeHashEntry& r : ranges) PutLeaf(dst, {r.interval.begin, r.interval.end, r.hash, r.keys});
}

Status DecodeRangeHashes(std::string_view body, std::vector<RangeHashEntry>* ranges) {
  return DecodeList(body, "AAE_RANGE_HASHES request", "range", 25, ranges,
                    [](std::string_view* in, RangeHashEntry* r, std::string*) {
                      LeafHash l;
                      if (!GetLeaf(in, &l)) return false;
                      *r = {{l.begin, l.end}, l.hash, l.keys};
                      return true;
                    });
}

void EncodeDifferingRanges(std::string* dst, const std::vector<uint32_t>& indexes) {
  PutVarint32(dst, static_cast<uint32_t>(indexes.size()));
  for (uint32_t i : indexes) PutVarint32(dst, i);
}

Status DecodeDifferingRanges(std::string_view payload, size_t request_count, std::vector<uint32_t>* indexes) {
  return DecodeList(payload, "AAE_RANGE_HASHES reply", "index", 1, indexes,
                    [request_count](std::string_view* in, uint32_t* index, std::string* why) {
                      if (!GetVarint32(in, index)) return false;
                      if (*index < request_count) return true;
                      *why = ": " + std::to_string(*index) + " is past the " + std::to_string(request_count) +
                             " ranges asked about";
                      return false;
                    });
}

void EncodeInterval(std::string* dst, PrefixInterval interval) {
  PutFixed64(dst, interval.begin);
  PutFixed64(dst, interval.end);
}

Status DecodeInterval(std::string_view body, const char* what, PrefixInterval* interval) {
  if (!GetFixed64(&body, &interval->begin) || !GetFixed64(&body, &interval->end)) {
    return Malformed(what, "truncated interval");
  }
  return Trailing(body, what);
}

void EncodeLeafHashes(std::string* dst, const std::vector<LeafHash>& leaves) {
  PutVarint32(dst, static_cast<uint32_t>(leaves.size()));
  for (const LeafHash& l : leaves) PutLeaf(dst, l);
}

Status DecodeLeafHashes(std::string_view payload, std::vector<LeafHash>* leaves) {
  return DecodeList(payload, "AAE_LEAF_HASHES reply", "leaf", 25, leaves,
                    [](std::string_view* in, LeafHash* leaf, std::string*) { return GetLeaf(in, leaf); });
}

void EncodeKeyDigests(std::string* dst, const std::vector<KeyDigestEntry>& entries) {
  PutVarint32(dst, static_cast<uint32_t>(entries.size()));
  for (const KeyDigestEntry& e : entries) {
    PutLengthPrefixed(dst, e.key);
    PutFixed64(dst, e.digest);
  }
}

Status DecodeKeyDigests(std::string_view payload, std::vector<KeyDigestEntry>* entries) {
  return DecodeList(payload, "AAE_KEY_DIGESTS reply", "entry", 9, entries,
                    [](std::string_view* in, KeyDigestEntry* e, std::string*) {
                      std::string_view key;
                      if (!GetLengthPrefixed(in, &key) || !GetFixed64(in, &e->digest)) return false;
                      e->key.assign(key);
                      return true;
                    });
}

void EncodeSync(std::string* dst, const std::vector<SyncEntry>& entries) {
  PutVarint32(dst, static_cast<uint32_t>(entries.size()));
  for (const SyncEntry& e : entries) {
    PutLengthPrefixed(dst, e.key);
    PutOptionalSet(dst, e.set);
  }
}

Status DecodeSync(std::string_view body, std::vector<SyncEntry>* entries) {
  return DecodeList(body, "AAE_SYNC request", "entry", 2, entries,
                    [](std::string_view* in, SyncEntry* e, std::string* why) {
                      std::string_view key;
                      if (!GetLengthPrefixed(in, &key) || key.empty()) {
                        *why = " (empty or truncated key)";
                        return false;
                      }
                      e->key.assign(key);
                      Status s = GetOptionalSet(in, &e->set);
                      if (!s.ok()) *why = " (key '" + e->key + "'): " + s.message();
                      return s.ok();
                    });
}

void EncodeSyncReply(std::string* dst, const std::vector<std::optional<SiblingSet>>& sets) {
  PutVarint32(dst, static_cast<uint32_t>(sets.size()));
  for (const auto& set : sets) PutOptionalSet(dst, set);
}

Status DecodeSyncReply(std::string_view payload, size_t request_count, std::vector<std::optional<SiblingSet>>* sets) {
  constexpr char kWhat[] = "AAE_SYNC reply";
  KV_RETURN_IF_ERROR(DecodeList(payload, kWhat, "answer", 1, sets,
                                [](std::string_view* in, std::optional<SiblingSet>* set, std::string* why) {
                                  Status s = GetOptionalSet(in, set);
                                  if (!s.ok()) *why = ": " + s.message();
                                  return s.ok();
                                }));
  if (sets->size() == request_count) return Status::OK();
  return Malformed(kWhat, std::to_string(sets->size()) + " answers to " + std::to_string(request_count) + " keys");
}

void EncodeRepairRequest(std::string* dst, const RepairRequest& request) {
  PutLengthPrefixed(dst, request.peer);
  dst->push_back(request.range ? 1 : 0);
  if (request.range) EncodeInterval(dst, *request.range);
}

Status DecodeRepairRequest(std::string_view body, RepairRequest* request) {
  constexpr char kWhat[] = "REPAIR_START request";
  std::string_view peer;
  if (!GetLengthPrefixed(&body, &peer) || body.empty() || static_cast<uint8_t>(body[0]) > 1) {
    return Malformed(kWhat, "truncated peer or bad range flag");
  }
  request->peer.assign(peer);
  const bool has_range = body[0] == 1;
  body.remove_prefix(1);
  request->range.reset();
  if (!has_range) return Trailing(body, kWhat);
  PrefixInterval interval;
  KV_RETURN_IF_ERROR(DecodeInterval(body, kWhat, &interval));
  request->range = interval;
  return Status::OK();
}

const char* RepairStateName(RepairState state) {
  switch (state) {
    case RepairState::kNone: return "none";
    case RepairState::kRunning: return "running";
    case RepairState::kDone: return "done";
    case RepairState::kFailed: return "failed";
  }
  return "unknown";
}

namespace {

// The varint64 fields of repair_progress, in wire order.
template <typename P>
auto ProgressFields(P& p) {
  return std::array{&p.job, &p.ranges_total, &p.ranges_done, &p.ranges_differing, &p.leaves_differing,
                    &p.keys_sent, &p.keys_received, &p.bytes_sent, &p.bytes_received,
                    &p.started_wall_us, &p.elapsed_us};
}

template <typename P>
auto LastFullFields(P& p) {
  return std::array{&p.last_full_wall_us, &p.last_full_ranges_differing, &p.last_full_keys_repaired};
}

}  // namespace

void EncodeRepairProgress(std::string* dst, const RepairProgress& progress) {
  dst->push_back(static_cast<char>(progress.state));
  for (const uint64_t* f : ProgressFields(progress)) PutVarint64(dst, *f);
  PutLengthPrefixed(dst, progress.detail);
  for (const uint64_t* f : LastFullFields(progress)) PutVarint64(dst, *f);
}

Status DecodeRepairProgress(std::string_view payload, RepairProgress* progress) {
  constexpr char kWhat[] = "REPAIR_STATUS reply";
  if (payload.empty() || static_cast<uint8_t>(payload[0]) > 3) return Malformed(kWhat, "bad state byte");
  progress->state = static_cast<RepairState>(payload[0]);
  payload.remove_prefix(1);
  for (uint64_t* f : ProgressFields(*progress)) {
    if (!GetVarint64(&payload, f)) return Malformed(kWhat, "truncated counters");
  }
  std::string_view detail;
  if (!GetLengthPrefixed(&payload, &detail)) return Malformed(kWhat, "truncated detail");
  progress->detail.assign(detail);
  for (uint64_t* f : LastFullFields(*progress)) {
    if (!GetVarint64(&payload, f)) return Malformed(kWhat, "truncated last full comparison");
  }
  return Trailing(payload, kWhat);
}

}  // namespace kvring::repl
