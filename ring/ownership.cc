#include "ring/ownership.h"

#include <algorithm>
#include <cstddef>
#include <string>

namespace kvring::ring {

namespace {

using Wide = TokenCount;  // sums of widths reach 2^64 and beyond

constexpr double kTwoTo64 = 18446744073709551616.0;

double Share(Wide tokens) { return static_cast<double>(tokens) / kTwoTo64; }

// Token counts summed over arcs, per node and per DC.
struct Totals {
  explicit Totals(const Ring& ring)
      : node_dc(ring.node_count()),
        vnodes(ring.node_count(), 0),
        primary(ring.node_count(), 0),
        replica(ring.node_count(), 0),
        dc_primary(ring.datacenters().size(), 0),
        dc_replica(ring.datacenters().size(), 0),
        dc_copies(ring.datacenters().size(), 0),
        copies_in_dc(ring.datacenters().size(), 0) {
    const std::vector<std::string>& names = ring.datacenters();
    for (size_t i = 0; i < ring.node_count(); ++i) {
      const auto it = std::lower_bound(names.begin(), names.end(), ring.nodes()[i].dc);
      node_dc[i] = static_cast<size_t>(it - names.begin());
    }
  }

  // Adds virtual node v's arc: to its owner's primary share, to each replica's share.
  void AddArc(const Ring& ring, size_t v) {
    const Wide width = ring.VnodeRange(v).span();
    const size_t owner = ring.IndexOf(ring.vnode_owner(v));
    ++vnodes[owner];
    primary[owner] += width;
    dc_primary[node_dc[owner]] += width;
    std::fill(copies_in_dc.begin(), copies_in_dc.end(), 0);
    for (const NodeInfo* node : ring.PreferenceListFor(ring.vnode_token(v))) {
      const size_t index = ring.IndexOf(*node);
      replica[index] += width;
      ++copies_in_dc[node_dc[index]];
    }
    for (size_t d = 0; d < copies_in_dc.size(); ++d) {
      if (copies_in_dc[d] > 0) dc_replica[d] += width;
      dc_copies[d] += width * copies_in_dc[d];
    }
  }

  std::vector<size_t> node_dc;
  std::vector<uint32_t> vnodes;
  std::vector<Wide> primary, replica, dc_primary, dc_replica, dc_copies;
  std::vector<uint32_t> copies_in_dc;  // scratch for one arc
};

}  // namespace

OwnershipReport ComputeOwnership(const Ring& ring) {
  Totals totals(ring);
  for (size_t v = 0; v < ring.vnode_count(); ++v) totals.AddArc(ring, v);
  OwnershipReport report;
  for (size_t i = 0; i < ring.node_count(); ++i) {
    report.nodes.push_back(
        NodeOwnership{ring.nodes()[i], totals.vnodes[i], Share(totals.primary[i]), Share(totals.replica[i])});
  }
  for (size_t d = 0; d < ring.datacenters().size(); ++d) {
    report.dcs.push_back(DcOwnership{ring.datacenters()[d], Share(totals.dc_primary[d]), Share(totals.dc_replica[d]),
                                     Share(totals.dc_copies[d])});
  }
  return report;
}

std::vector<TokenRange> RangesReplicatedBy(const Ring& ring, std::string_view node_id) {
  std::vector<TokenRange> out;
  const NodeInfo* node = ring.FindNode(node_id);
  if (node == nullptr) return out;
  ring.ForEachRange([&](const TokenRange& range, const PreferenceList& replicas) {
    if (replicas.Contains(node)) AppendMergedRange(&out, range);
  });
  CloseWrap(&out);
  return out;
}

std::vector<TokenRange> PrimaryRangesOf(const Ring& ring, std::string_view node_id) {
  std::vector<TokenRange> out;
  const NodeInfo* node = ring.FindNode(node_id);
  if (node == nullptr) return out;
  for (size_t v = 0; v < ring.vnode_count(); ++v) {
    if (&ring.vnode_owner(v) == node) AppendMergedRange(&out, ring.VnodeRange(v));
  }
  CloseWrap(&out);
  return out;
}

}  // namespace kvring::ring
