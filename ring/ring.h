// ring/ring.h — the public header of ring/: kvring's consistent-hashing ring.
//
// A Ring is an immutable value built from a member list and RingOptions (virtual
// nodes per unit of weight, replication spec). Every process builds the same ring
// from the same members, in whatever order they are listed. Membership changes
// build a new Ring and swap it in atomically (ring/membership_view.h); readers keep
// the shared_ptr<const Ring> they loaded for the whole request.
//
// Lookups binary-search a sorted token array (narrowed by a bucket index on the
// top bits of the token) and fill a fixed-capacity
// PreferenceList: no allocation per lookup. How placement works, with a worked
// example, and the measured balance: docs/ring.md.
// Thread safety: immutable after Build; every const method is thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "ring/node_info.h"
#include "ring/preference_list.h"
#include "ring/replica_selector.h"
#include "ring/replication_spec.h"
#include "ring/token.h"
#include "ring/vnode_placement.h"

namespace kvring::ring {

struct RingOptions {
  uint32_t vnodes_per_weight = kDefaultVnodesPerWeight;  // 1..kMaxVnodesPerWeight
  ReplicationSpec replication;                           // default: 3 over the cluster
};

class Ring {
 public:
  // Validates the members (ValidateMembers) and places their virtual nodes.
  // An empty member list gives an empty ring (every lookup returns no node).
  // `version` is the membership version (RingHolder counts it).
  [[nodiscard]] static base::Result<std::shared_ptr<const Ring>> Build(std::vector<NodeInfo> members,
                                                                      RingOptions options = {},
                                                                      uint64_t version = 0);
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;

  // --- Members and layout ---
  // Members sorted by id.
  const std::vector<NodeInfo>& nodes() const { return nodes_; }
  size_t node_count() const { return nodes_.size(); }
  // nullptr when no member has this id.
  const NodeInfo* FindNode(std::string_view id) const;
  // Position of a member in nodes(). REQUIRES: node is an element of nodes().
  size_t IndexOf(const NodeInfo& node) const;
  // Datacenter names, sorted.
  const std::vector<std::string>& datacenters() const { return dcs_; }
  size_t NodesInDc(std::string_view dc) const;
  size_t RacksInDc(std::string_view dc) const;
  const RingOptions& options() const { return options_; }
  const ReplicationSpec& replication() const { return options_.replication; }
  uint64_t version() const { return version_; }

  size_t vnode_count() const { return tokens_.size(); }
  // REQUIRES: i < vnode_count(). Virtual nodes are in increasing token order.
  Token vnode_token(size_t i) const { return tokens_[i]; }
  const NodeInfo& vnode_owner(size_t i) const { return nodes_[owners_[i]]; }
  // The arc virtual node i owns: (previous token, its token].
  TokenRange VnodeRange(size_t i) const;
  // Index of the virtual node owning `t` (the first at or clockwise after t).
  // REQUIRES: vnode_count() > 0.
  size_t SuccessorVnode(Token t) const;

  // A digest of everything placement depends on (members with their labels and
  // weights, tokens, owners, replication spec). Equal fingerprints mean two
  // processes place every key identically; gossip can compare it cheaply.
  uint64_t Fingerprint() const { return fingerprint_; }

  // --- Lookups ---
  // The node owning t's successor virtual node; nullptr on an empty ring.
  const NodeInfo* Primary(Token t) const;
  // The replicas of t under the ring's replication spec (see ReplicaSelector for
  // the rack/DC rules): distinct physical nodes, primary first. Fewer than N only
  // when the cluster (or a DC of a per-DC spec) has fewer nodes than asked.
  PreferenceList PreferenceListFor(Token t) const { return Select(t, plan_); }
  PreferenceList PreferenceListForKey(std::string_view key) const { return PreferenceListFor(TokenOf(key)); }
  // The same under another spec (a keyspace with its own N); DCs the ring does not
  // have contribute nothing.
  PreferenceList PreferenceListFor(Token t, const ReplicationSpec& spec) const { return Select(t, Plan(spec)); }

  // Visits every distinct physical node once, in clockwise order from t's successor
  // virtual node, until `visit(const NodeInfo&)` returns false.
  template <typename Visitor>
  void WalkClockwise(Token t, Visitor&& visit) const;
  // Visits, in clockwise order, the distinct nodes that are NOT in
  // PreferenceListFor(t): where a sloppy quorum looks for a stand-in.
  template <typename Visitor>
  void WalkPastPreferenceList(Token t, Visitor&& visit) const;

  // Calls visit(const TokenRange&, const PreferenceList&) for every virtual node's
  // arc in token order: every token of the arc has that preference list.
  template <typename Visitor>
  void ForEachRange(Visitor&& visit) const;

 private:
  Ring() = default;
  void IndexTopology();
  void IndexBuckets();
  PlacementPlan Plan(const ReplicationSpec& spec) const;
  PreferenceList Select(Token t, const PlacementPlan& plan) const;
  uint64_t ComputeFingerprint() const;
  int DcIndex(std::string_view dc) const;
  size_t NextVnode(size_t i) const { return i + 1 == tokens_.size() ? 0 : i + 1; }

  std::vector<NodeInfo> nodes_;       // sorted by id
  std::vector<Token> tokens_;         // strictly increasing
  std::vector<uint32_t> owners_;      // owners_[i] owns tokens_[i]; index into nodes_
  // Lookup index: bucket b covers tokens whose top bits are b; bucket_first_[b] is the
  // first vnode with a token in bucket b or later (size buckets + 1). Narrows the
  // binary search to a few vnodes of one bucket.
  std::vector<uint32_t> bucket_first_;
  int bucket_shift_ = 64;
  std::vector<uint32_t> node_dc_;     // per node: index into dcs_
  std::vector<uint32_t> node_rack_;   // per node: rack index, unique across DCs
  std::vector<std::string> dcs_;      // sorted
  std::vector<uint32_t> dc_nodes_;    // per DC: member count
  std::vector<uint32_t> dc_racks_;    // per DC: distinct racks
  uint32_t rack_count_ = 0;           // distinct (dc, rack) pairs
  RingOptions options_;
  PlacementPlan plan_;                // options_.replication resolved
  uint64_t version_ = 0;
  uint64_t fingerprint_ = 0;
};

template <typename Visitor>
void Ring::WalkClockwise(Token t, Visitor&& visit) const {
  if (tokens_.empty()) return;
  std::vector<bool> seen(nodes_.size(), false);  // off the hot path: only when replicas fail
  size_t left = nodes_.size();
  for (size_t i = SuccessorVnode(t), steps = 0; steps < tokens_.size() && left > 0; i = NextVnode(i), ++steps) {
    const uint32_t owner = owners_[i];
    if (seen[owner]) continue;
    seen[owner] = true;
    --left;
    if (!visit(static_cast<const NodeInfo&>(nodes_[owner]))) return;
  }
}

template <typename Visitor>
void Ring::WalkPastPreferenceList(Token t, Visitor&& visit) const {
  const PreferenceList replicas = PreferenceListFor(t);
  WalkClockwise(t, [&](const NodeInfo& node) { return replicas.Contains(&node) ? true : visit(node); });
}

template <typename Visitor>
void Ring::ForEachRange(Visitor&& visit) const {
  for (size_t i = 0; i < tokens_.size(); ++i) {
    const TokenRange range = VnodeRange(i);
    visit(static_cast<const TokenRange&>(range), PreferenceListFor(tokens_[i]));
  }
}

}  // namespace kvring::ring
