#include "repl/quorum.h"

#include <algorithm>

#include "net/protocol.h"

namespace kvring::repl {

using base::Status;

namespace {

size_t Majority(size_t n) { return n / 2 + 1; }

}  // namespace

QuorumCounter::Dc* QuorumCounter::Find(std::string_view dc) {
  for (size_t i = 0; i < dc_count_; ++i) {
    if (dcs_[i].name == dc) return &dcs_[i];
  }
  return nullptr;
}

base::Result<QuorumCounter> QuorumCounter::For(uint8_t level, uint8_t default_level,
                                               const ring::PreferenceList& replicas, size_t spec_n,
                                               std::string_view local_dc, const char* what) {
  if (level == net::kConsistencyDefault) level = default_level;
  const size_t n = replicas.size();
  if (n == 0) return Status::Unavailable("no replica for the key: the ring has no members");
  QuorumCounter q;
  if (level == net::kConsistencyLocalOne || level == net::kConsistencyLocalQuorum) {
    q.scope_ = Scope::kLocal;
    size_t in_dc = 0;
    for (const ring::NodeInfo* node : replicas) in_dc += node->dc == local_dc ? 1 : 0;
    if (in_dc == 0) {
      return Status::InvalidArgument(std::string(what) + "=" + net::ConsistencyName(level) + ": the key has no " +
                                     "replica in this node's datacenter " + std::string(local_dc));
    }
    q.dcs_[0] = {local_dc, level == net::kConsistencyLocalOne ? 1 : Majority(in_dc), 0};
    q.dc_count_ = 1;
    return q;
  }
  if (level == net::kConsistencyEachQuorum) {
    q.scope_ = Scope::kEach;
    for (const ring::NodeInfo* node : replicas) {
      Dc* dc = q.Find(node->dc);
      if (dc == nullptr) dc = &(q.dcs_[q.dc_count_++] = Dc{node->dc, 0, 0});
      dc->need++;  // counts replicas here; made a majority below
    }
    for (size_t i = 0; i < q.dc_count_; ++i) q.dcs_[i].need = Majority(q.dcs_[i].need);
    return q;
  }
  const size_t base = std::max(n, spec_n);
  q.need_ = level == net::kConsistencyQuorum ? Majority(base) : level == net::kConsistencyAll ? base : level;
  if (q.need_ > n) {
    return Status::InvalidArgument(std::string(what) + "=" + net::ConsistencyName(level) + " needs " +
                                   std::to_string(q.need_) + " replicas but the key has " + std::to_string(n));
  }
  return q;
}

void QuorumCounter::Count(std::string_view dc) {
  got_++;
  if (Dc* d = Find(dc)) d->got++;
}

bool QuorumCounter::Met() const {
  if (scope_ == Scope::kAny) return got_ >= need_;
  for (size_t i = 0; i < dc_count_; ++i) {
    if (dcs_[i].got < dcs_[i].need) return false;
  }
  return true;
}

size_t QuorumCounter::needed() const {
  if (scope_ == Scope::kAny) return need_;
  size_t n = 0;
  for (size_t i = 0; i < dc_count_; ++i) n += dcs_[i].need;
  return n;
}

std::string QuorumCounter::Progress(std::string_view noun) const {
  if (scope_ == Scope::kAny) return std::to_string(got_) + " of " + std::to_string(need_) + " " + std::string(noun);
  std::string out(noun);
  for (size_t i = 0; i < dc_count_; ++i) {
    out += i == 0 ? " " : ", ";
    out += std::to_string(dcs_[i].got) + " of " + std::to_string(dcs_[i].need) + " in " + std::string(dcs_[i].name);
  }
  return out;
}

}  // namespace kvring::repl
