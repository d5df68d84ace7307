#include "repl/node_state.h"

#include <algorithm>

#include "base/coding.h"
#include "base/crc32c.h"

namespace kvring::repl {

using base::Status;

namespace {

constexpr std::string_view kMagic = "KVNS";
constexpr size_t kCrcBytes = 4;

Status Bad(const std::string& what) { return Status::Corruption("node_state: " + what); }

}  // namespace

void EncodeNodeState(const NodeState& state, std::string* dst) {
  const size_t start = dst->size();
  dst->append(kMagic);
  dst->push_back(static_cast<char>(kNodeStateVersion));
  base::PutLengthPrefixed(dst, state.id);
  base::PutVarint64(dst, state.generation);
  base::PutVarint64(dst, state.epoch);
  dst->push_back(static_cast<char>(state.clean ? kNodeStateClean : 0));
  base::PutFixed32(dst, base::crc32c::Mask(base::crc32c::Value(dst->data() + start, dst->size() - start)));
}

base::Result<NodeState> DecodeNodeState(std::string_view bytes) {
  if (bytes.size() < kMagic.size() + 1 + kCrcBytes) return Bad("truncated (" + std::to_string(bytes.size()) + " bytes)");
  if (bytes.substr(0, kMagic.size()) != kMagic) return Bad("bad magic (not a node_state file)");
  const std::string_view body = bytes.substr(0, bytes.size() - kCrcBytes);
  const uint32_t stored = base::crc32c::Unmask(base::DecodeFixed32(bytes.data() + body.size()));
  if (stored != base::crc32c::Value(body.data(), body.size())) return Bad("checksum mismatch");
  const auto version = static_cast<uint8_t>(body[kMagic.size()]);
  if (version > kNodeStateVersion) {
    return Status::NotSupported("node_state: format version " + std::to_string(version) +
                                " is newer than this node reads (" + std::to_string(kNodeStateVersion) + ")");
  }
  if (version == 0) return Bad("bad format version 0");
  std::string_view in = body.substr(kMagic.size() + 1);
  NodeState state;
  std::string_view id;
  if (!base::GetLengthPrefixed(&in, &id) || !base::GetVarint64(&in, &state.generation) ||
      !base::GetVarint64(&in, &state.epoch) || in.size() != 1) {
    return Bad("truncated or trailing bytes");
  }
  const auto flags = static_cast<uint8_t>(in[0]);
  if ((flags & ~kNodeStateClean) != 0) return Bad("unknown flag bits");
  if (id.empty() || state.epoch == 0) return Bad("empty node id or epoch 0");
  state.id.assign(id);
  state.clean = (flags & kNodeStateClean) != 0;
  return state;
}

std::string ActorId(std::string_view node_id, uint64_t epoch) {
  std::string actor(node_id);
  if (epoch > 1) actor += kEpochSeparator + std::to_string(epoch);
  return actor;
}

base::Result<NodeState> NodeStateFile::Begin(std::string_view node_id, bool new_epoch, bool has_data,
                                             uint64_t now_micros) {
  const uint64_t now_secs = now_micros / 1'000'000;
  std::string bytes;
  Status s = base::ReadFileToString(env_, path_, &bytes);
  bool fresh = false;
  if (s.IsNotFound()) {
    fresh = true;
    state_ = NodeState{std::string(node_id), 0, has_data ? std::max<uint64_t>(2, now_secs) : 1, true};
    epoch_raised_ = has_data;
  } else {
    KV_RETURN_IF_ERROR(s.WithContext("read " + path_));
    auto decoded = DecodeNodeState(bytes);
    if (!decoded.ok()) return decoded.status().WithContext(path_);
    state_ = std::move(decoded).value();
    if (state_.id != node_id) {
      return Status::InvalidArgument("data directory belongs to node '" + state_.id + "', not '" +
                                     std::string(node_id) + "' (" + path_ + ")");
    }
  }
  // A first start has nothing to have lost; any other start keeps its epoch only
  // after a clean stop.
  if (!fresh) {
    epoch_raised_ = new_epoch || !state_.clean;
    if (epoch_raised_) state_.epoch++;
  }
  state_.generation = std::max(state_.generation + 1, now_micros / 1000);
  state_.clean = false;
  s = Persist();
  pending_ = s.IsNoSpace();
  if (!s.ok() && !pending_) return s;
  return state_;
}

Status NodeStateFile::PersistPending() {
  if (!pending_) return Status::OK();
  KV_RETURN_IF_ERROR(Persist());
  pending_ = false;
  return Status::OK();
}

Status NodeStateFile::MarkClean() {
  state_.clean = true;
  return Persist();
}

Status NodeStateFile::Persist() {
  std::string bytes;
  EncodeNodeState(state_, &bytes);
  return base::WriteStringToFileAtomic(env_, bytes, path_).WithContext("write " + path_);
}

}  // namespace kvring::repl
