#include "repl/member_state.h"

#include <sstream>

#include "base/coding.h"
#include "base/crc32c.h"
#include "repl/messages.h"

namespace kvring::repl {

using base::Status;

namespace {

constexpr std::string_view kMagic = "KVMB";
constexpr size_t kCrcBytes = 4;
constexpr uint8_t kMaxStatus = static_cast<uint8_t>(MemberStatus::kRemoving);

bool GetString(std::string_view* in, std::string* out) {
  std::string_view v;
  if (!base::GetLengthPrefixed(in, &v)) return false;
  out->assign(v);
  return true;
}

// A count of items of at least `min_bytes` each that `in` could hold.
bool GetCount(std::string_view* in, size_t min_bytes, uint32_t* count) {
  return base::GetVarint32(in, count) && *count <= in->size() / min_bytes;
}

bool DecodeSuspects(std::string_view* in, std::vector<std::string>* suspects) {
  uint32_t n;
  if (!GetCount(in, 1, &n)) return false;
  suspects->resize(n);
  for (auto& s : *suspects) {
    if (!GetString(in, &s)) return false;
  }
  return true;
}

bool DecodeHints(std::string_view* in, std::vector<std::pair<std::string, uint64_t>>* hints) {
  uint32_t n;
  if (!GetCount(in, 2, &n)) return false;
  hints->resize(n);
  for (auto& [owner, count] : *hints) {
    if (!GetString(in, &owner) || !base::GetVarint64(in, &count)) return false;
  }
  return true;
}

Status Bad(const std::string& what) { return Status::Corruption("members file: " + what); }

// The static membership's text format: `id address dc rack weight` per line.
base::Result<std::vector<MemberState>> ParseLegacyText(const std::string& path, const std::string& text) {
  std::vector<MemberState> out;
  std::istringstream in(text);
  std::string line;
  for (int lineno = 1; std::getline(in, line); ++lineno) {
    if (line.empty()) continue;
    std::istringstream fields(line);
    MemberState m;
    if (!(fields >> m.node.id >> m.node.address >> m.node.dc >> m.node.rack >> m.node.weight)) {
      return Status::Corruption(path + ":" + std::to_string(lineno) + ": malformed member line");
    }
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace

const char* MemberStatusName(MemberStatus status) {
  switch (status) {
    case MemberStatus::kJoining: return "joining";
    case MemberStatus::kNormal: return "normal";
    case MemberStatus::kLeaving: return "leaving";
    case MemberStatus::kLeft: return "left";
    case MemberStatus::kRemoved: return "removed";
    case MemberStatus::kRemoving: return "removing";
  }
  return "unknown";
}

bool OwnsRanges(MemberStatus status) {
  return status == MemberStatus::kNormal || status == MemberStatus::kLeaving || status == MemberStatus::kRemoving;
}

bool OwnsRangesAfter(MemberStatus status) {
  return status == MemberStatus::kNormal || status == MemberStatus::kJoining;
}

void EncodeMemberState(std::string* dst, const MemberState& state) {
  EncodeMember(dst, state.node, state.next_weight);
  base::PutVarint64(dst, state.generation);
  base::PutVarint64(dst, state.version);
  dst->push_back(static_cast<char>(state.status));
  base::PutVarint64(dst, state.load_bytes);
  base::PutVarint64(dst, state.load_keys);
  base::PutVarint32(dst, static_cast<uint32_t>(state.suspects.size()));
  for (const auto& s : state.suspects) base::PutLengthPrefixed(dst, s);
  base::PutVarint32(dst, static_cast<uint32_t>(state.hints.size()));
  for (const auto& [owner, count] : state.hints) {
    base::PutLengthPrefixed(dst, owner);
    base::PutVarint64(dst, count);
  }
}

bool DecodeMemberState(std::string_view* input, MemberState* state) {
  if (!DecodeMember(input, &state->node, &state->next_weight) || !base::GetVarint64(input, &state->generation) ||
      !base::GetVarint64(input, &state->version) || input->empty()) {
    return false;
  }
  const auto status = static_cast<uint8_t>((*input)[0]);
  if (status > kMaxStatus) return false;
  state->status = static_cast<MemberStatus>(status);
  input->remove_prefix(1);
  return base::GetVarint64(input, &state->load_bytes) && base::GetVarint64(input, &state->load_keys) &&
         DecodeSuspects(input, &state->suspects) && DecodeHints(input, &state->hints);
}

void EncodeMembersFile(const std::vector<MemberState>& members, std::string* dst) {
  const size_t start = dst->size();
  dst->append(kMagic);
  dst->push_back(static_cast<char>(kMembersFileVersion));
  base::PutVarint32(dst, static_cast<uint32_t>(members.size()));
  for (const auto& m : members) EncodeMemberState(dst, m);
  base::PutFixed32(dst, base::crc32c::Mask(base::crc32c::Value(dst->data() + start, dst->size() - start)));
}

base::Result<std::vector<MemberState>> DecodeMembersFile(std::string_view bytes) {
  if (bytes.size() < kMagic.size() + 1 + kCrcBytes) return Bad("truncated (" + std::to_string(bytes.size()) + " bytes)");
  if (bytes.substr(0, kMagic.size()) != kMagic) return Bad("bad magic");
  const std::string_view body = bytes.substr(0, bytes.size() - kCrcBytes);
  if (base::crc32c::Unmask(base::DecodeFixed32(bytes.data() + body.size())) !=
      base::crc32c::Value(body.data(), body.size())) {
    return Bad("checksum mismatch");
  }
  const auto version = static_cast<uint8_t>(body[kMagic.size()]);
  if (version > kMembersFileVersion) {
    return Status::NotSupported("members file: format version " + std::to_string(version) +
                                " is newer than this node reads (" + std::to_string(kMembersFileVersion) + ")");
  }
  if (version == 0) return Bad("bad format version 0");
  std::string_view in = body.substr(kMagic.size() + 1);
  uint32_t count;
  if (!GetCount(&in, 5, &count)) return Bad("bad member count");
  std::vector<MemberState> out(count);
  for (uint32_t i = 0; i < count; ++i) {
    if (!DecodeMemberState(&in, &out[i])) return Bad("member " + std::to_string(i) + " is malformed");
  }
  if (!in.empty()) return Bad(std::to_string(in.size()) + " trailing bytes");
  return out;
}

base::Result<std::vector<MemberState>> LoadMembersFile(base::Env* env, const std::string& path) {
  if (!env->FileExists(path)) return std::vector<MemberState>();
  std::string bytes;
  KV_RETURN_IF_ERROR(base::ReadFileToString(env, path, &bytes).WithContext("read " + path));
  if (bytes.compare(0, kMagic.size(), kMagic) != 0) return ParseLegacyText(path, bytes);
  auto decoded = DecodeMembersFile(bytes);
  if (!decoded.ok()) return decoded.status().WithContext(path);
  return decoded;
}

Status SaveMembersFile(base::Env* env, const std::string& path, const std::vector<MemberState>& members) {
  std::string bytes;
  EncodeMembersFile(members, &bytes);
  return base::WriteStringToFileAtomic(env, bytes, path).WithContext("write " + path);
}

}  // namespace kvring::repl
