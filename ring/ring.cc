#include "ring/ring.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <map>
#include <utility>

#include "base/coding.h"
#include "base/hash.h"

namespace kvring::ring {

base::Result<std::shared_ptr<const Ring>> Ring::Build(std::vector<NodeInfo> members, RingOptions options,
                                                      uint64_t version) {
  if (options.vnodes_per_weight < 1 || options.vnodes_per_weight > kMaxVnodesPerWeight) {
    return base::Status::InvalidArgument("ring: vnodes per weight " + std::to_string(options.vnodes_per_weight) +
                                         " is outside 1.." + std::to_string(kMaxVnodesPerWeight));
  }
  KV_RETURN_IF_ERROR(ValidateMembers(members).WithContext("ring"));
  std::sort(members.begin(), members.end(), [](const NodeInfo& a, const NodeInfo& b) { return a.id < b.id; });

  std::shared_ptr<Ring> ring(new Ring());
  ring->nodes_ = std::move(members);
  ring->options_ = std::move(options);
  ring->version_ = version;
  VnodeLayout layout = PlaceVnodes(ring->nodes_, ring->options_.vnodes_per_weight);
  ring->tokens_ = std::move(layout.tokens);
  ring->owners_ = std::move(layout.owners);
  ring->IndexTopology();
  ring->IndexBuckets();
  ring->plan_ = ring->Plan(ring->options_.replication);
  ring->fingerprint_ = ring->ComputeFingerprint();
  return std::shared_ptr<const Ring>(std::move(ring));
}

void Ring::IndexTopology() {
  // Indices follow sorted names, so they are the same in every process.
  std::map<std::string_view, uint32_t> dcs;
  std::map<std::pair<std::string_view, std::string_view>, uint32_t> racks;
  for (const NodeInfo& node : nodes_) {
    dcs.emplace(node.dc, 0);
    racks.emplace(std::make_pair(std::string_view(node.dc), std::string_view(node.rack)), 0);
  }
  for (auto& [name, index] : dcs) {
    index = static_cast<uint32_t>(dcs_.size());
    dcs_.emplace_back(name);
  }
  uint32_t next_rack = 0;
  for (auto& entry : racks) entry.second = next_rack++;
  rack_count_ = next_rack;
  dc_nodes_.assign(dcs_.size(), 0);
  dc_racks_.assign(dcs_.size(), 0);
  for (const auto& entry : racks) ++dc_racks_[dcs.at(entry.first.first)];
  for (const NodeInfo& node : nodes_) {
    const uint32_t dc = dcs.at(node.dc);
    node_dc_.push_back(dc);
    node_rack_.push_back(racks.at({node.dc, node.rack}));
    ++dc_nodes_[dc];
  }
}

void Ring::IndexBuckets() {
  // About four virtual nodes per bucket, at most 2^16 buckets (256 KiB).
  int bits = 0;
  while (bits < 16 && (size_t{1} << (bits + 2)) < tokens_.size()) ++bits;
  bucket_shift_ = 64 - bits;
  const size_t buckets = size_t{1} << bits;
  bucket_first_.assign(buckets + 1, static_cast<uint32_t>(tokens_.size()));
  size_t v = 0;
  for (size_t b = 0; b < buckets; ++b) {
    while (v < tokens_.size() && (bits == 0 ? 0 : tokens_[v] >> bucket_shift_) < b) ++v;
    bucket_first_[b] = static_cast<uint32_t>(v);
  }
}

int Ring::DcIndex(std::string_view dc) const {
  auto it = std::lower_bound(dcs_.begin(), dcs_.end(), dc);
  return it != dcs_.end() && *it == dc ? static_cast<int>(it - dcs_.begin()) : -1;
}

PlacementPlan Ring::Plan(const ReplicationSpec& spec) const {
  PlacementPlan plan;
  auto add = [&plan](uint32_t dc, uint32_t want, uint32_t racks) {
    if (want == 0) return;
    plan.groups[plan.size++] = PlacementGroup{dc, want, racks};
    plan.want_total += want;
  };
  if (!spec.per_dc()) {
    add(kAnyDc, std::min<uint32_t>(spec.total(), static_cast<uint32_t>(nodes_.size())), rack_count_);
    return plan;
  }
  for (const ReplicationSpec::DcFactor& factor : spec.dcs()) {
    const int dc = DcIndex(factor.dc);
    if (dc < 0) continue;  // no node there (yet): the coordinator reports the shortfall
    add(static_cast<uint32_t>(dc), std::min<uint32_t>(factor.replicas, dc_nodes_[dc]), dc_racks_[dc]);
  }
  return plan;
}

size_t Ring::SuccessorVnode(Token t) const {
  assert(!tokens_.empty());
  // Tokens of bucket b lie in [bucket_first_[b], bucket_first_[b + 1]); when none
  // is >= t the answer is the next bucket's first vnode, or the wrap to 0.
  const size_t b = bucket_shift_ == 64 ? 0 : static_cast<size_t>(t >> bucket_shift_);
  const auto first = tokens_.begin() + bucket_first_[b];
  const auto last = tokens_.begin() + bucket_first_[b + 1];
  const auto it = std::lower_bound(first, last, t);
  return it == tokens_.end() ? 0 : static_cast<size_t>(it - tokens_.begin());
}

TokenRange Ring::VnodeRange(size_t i) const {
  const size_t prev = i == 0 ? tokens_.size() - 1 : i - 1;
  return TokenRange{tokens_[prev], tokens_[i]};
}

const NodeInfo* Ring::Primary(Token t) const {
  return tokens_.empty() ? nullptr : &nodes_[owners_[SuccessorVnode(t)]];
}

PreferenceList Ring::Select(Token t, const PlacementPlan& plan) const {
  PreferenceList list;
  if (tokens_.empty() || plan.size == 0) return list;
  ReplicaSelector selector(plan, node_dc_.data(), node_rack_.data());
  size_t i = SuccessorVnode(t);
  bool done = false;
  for (size_t steps = 0; steps < tokens_.size() && !done; ++steps, i = NextVnode(i)) {
    done = selector.Offer(owners_[i]);
  }
  if (!done) selector.Finish();
  for (uint32_t k = 0; k < selector.size(); ++k) list.PushBack(&nodes_[selector.node(k)]);
  return list;
}

const NodeInfo* Ring::FindNode(std::string_view id) const {
  auto it = std::lower_bound(nodes_.begin(), nodes_.end(), id,
                             [](const NodeInfo& node, std::string_view key) { return node.id < key; });
  return it != nodes_.end() && it->id == id ? &*it : nullptr;
}

size_t Ring::IndexOf(const NodeInfo& node) const {
  assert(&node >= nodes_.data() && &node < nodes_.data() + nodes_.size());
  return static_cast<size_t>(&node - nodes_.data());
}

size_t Ring::NodesInDc(std::string_view dc) const {
  const int index = DcIndex(dc);
  return index < 0 ? 0 : dc_nodes_[index];
}

size_t Ring::RacksInDc(std::string_view dc) const {
  const int index = DcIndex(dc);
  return index < 0 ? 0 : dc_racks_[index];
}

uint64_t Ring::ComputeFingerprint() const {
  std::string buf = "kvring-ring-v1";
  base::PutVarint32(&buf, options_.vnodes_per_weight);
  base::PutLengthPrefixed(&buf, options_.replication.ToString());
  base::PutVarint64(&buf, nodes_.size());
  for (const NodeInfo& node : nodes_) {
    base::PutLengthPrefixed(&buf, node.id);
    base::PutLengthPrefixed(&buf, node.address);
    base::PutLengthPrefixed(&buf, node.dc);
    base::PutLengthPrefixed(&buf, node.rack);
    uint64_t weight_bits;
    std::memcpy(&weight_bits, &node.weight, sizeof(weight_bits));
    base::PutFixed64(&buf, weight_bits);
  }
  base::PutVarint64(&buf, tokens_.size());
  for (size_t i = 0; i < tokens_.size(); ++i) {
    base::PutFixed64(&buf, tokens_[i]);
    base::PutVarint32(&buf, owners_[i]);
  }
  return base::Hash64(buf, 0);
}

}  // namespace kvring::ring
