#include "repl/repair_state.h"

#include <array>

#include "base/coding.h"
#include "base/crc32c.h"

namespace kvring::repl {

using base::Status;

namespace {

constexpr char kMagic[] = "KVREPAIR";
constexpr size_t kMagicBytes = 8;
constexpr uint8_t kVersion = 1;

template <typename S>
auto Counters(S& s) {
  auto& p = s.progress;
  return std::array{&p.ranges_total, &p.ranges_differing, &p.leaves_differing, &p.keys_sent, &p.keys_received,
                    &p.bytes_sent, &p.bytes_received, &p.elapsed_us, &p.last_full_wall_us,
                    &p.last_full_ranges_differing, &p.last_full_keys_repaired};
}

Status Bad(const std::string& what) { return Status::Corruption("repair state: " + what); }

Status DecodeBody(std::string_view in, RepairJobState* st) {
  RepairProgress& p = st->progress;
  std::string_view peer;
  if (!base::GetVarint64(&in, &p.job) || in.empty() || static_cast<uint8_t>(in[0]) > 3) return Bad("bad job or state");
  p.state = static_cast<RepairState>(in[0]);
  in.remove_prefix(1);
  if (!base::GetVarint64(&in, &p.started_wall_us) || !base::GetLengthPrefixed(&in, &peer) || in.empty() ||
      static_cast<uint8_t>(in[0]) > 1) {
    return Bad("truncated request");
  }
  st->request.peer.assign(peer);
  const bool has_range = in[0] == 1;
  in.remove_prefix(1);
  st->request.range.reset();
  if (has_range) {
    PrefixInterval r;
    if (!base::GetFixed64(&in, &r.begin) || !base::GetFixed64(&in, &r.end)) return Bad("truncated range");
    st->request.range = r;
  }
  for (uint64_t* c : Counters(*st)) {
    if (!base::GetVarint64(&in, c)) return Bad("truncated counters");
  }
  uint32_t n;
  if (!base::GetVarint32(&in, &n) || n > in.size() / 9) return Bad("bad count of ranges done");
  st->done.clear();
  for (uint32_t i = 0; i < n; i++) {
    std::string_view id;
    uint64_t end;
    if (!base::GetLengthPrefixed(&in, &id) || !base::GetFixed64(&in, &end)) {
      return Bad("truncated range done " + std::to_string(i + 1) + " of " + std::to_string(n));
    }
    st->done.emplace(std::string(id), end);
  }
  p.ranges_done = st->done.size();
  if (!in.empty()) return Bad(std::to_string(in.size()) + " trailing bytes");
  return Status::OK();
}

}  // namespace

std::string EncodeRepairJobState(const RepairJobState& st) {
  std::string out(kMagic, kMagicBytes);
  out.push_back(static_cast<char>(kVersion));
  const RepairProgress& p = st.progress;
  base::PutVarint64(&out, p.job);
  out.push_back(static_cast<char>(p.state));
  base::PutVarint64(&out, p.started_wall_us);
  base::PutLengthPrefixed(&out, st.request.peer);
  out.push_back(st.request.range ? 1 : 0);
  if (st.request.range) {
    base::PutFixed64(&out, st.request.range->begin);
    base::PutFixed64(&out, st.request.range->end);
  }
  for (const uint64_t* c : Counters(st)) base::PutVarint64(&out, *c);
  base::PutVarint32(&out, static_cast<uint32_t>(st.done.size()));
  for (const auto& [peer, end] : st.done) {
    base::PutLengthPrefixed(&out, peer);
    base::PutFixed64(&out, end);
  }
  base::PutFixed32(&out, base::crc32c::Mask(base::crc32c::Value(out.data(), out.size())));
  return out;
}

Status DecodeRepairJobState(std::string_view bytes, RepairJobState* state) {
  if (bytes.size() < kMagicBytes + 1 + 4 || bytes.substr(0, kMagicBytes) != std::string_view(kMagic, kMagicBytes)) {
    return Bad("not a repair state file (bad magic or too short)");
  }
  if (static_cast<uint8_t>(bytes[kMagicBytes]) != kVersion) {
    return Bad("version " + std::to_string(static_cast<uint8_t>(bytes[kMagicBytes])) + " (this build reads 1)");
  }
  const size_t body_end = bytes.size() - 4;
  const uint32_t stored = base::DecodeFixed32(bytes.data() + body_end);
  if (base::crc32c::Unmask(stored) != base::crc32c::Value(bytes.data(), body_end)) return Bad("checksum mismatch");
  *state = RepairJobState();
  return DecodeBody(bytes.substr(kMagicBytes + 1, body_end - kMagicBytes - 1), state);
}

Status SaveRepairJobState(base::Env* env, const std::string& path, const RepairJobState& state) {
  return base::WriteStringToFileAtomic(env, EncodeRepairJobState(state), path).WithContext("save " + path);
}

Status LoadRepairJobState(base::Env* env, const std::string& path, RepairJobState* state) {
  if (!env->FileExists(path)) return Status::NotFound(path);
  std::string bytes;
  KV_RETURN_IF_ERROR(base::ReadFileToString(env, path, &bytes));
  return DecodeRepairJobState(bytes, state).WithContext(path);
}

}  // namespace kvring::repl
