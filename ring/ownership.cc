#include "ring/ownership.h"

#include <algorithm>
#include <cstddef>

namespace kvring::ring {

namespace {

using Wide = unsigned __int128;  // sums of widths reach 2^64 and beyond

constexpr double kTwoTo64 = 18446744073709551616.0;

// Width of an arc as a 128-bit count (a full() arc is 2^64 tokens).
Wide WidthOf(const TokenRange& range) { return range.full() ? (Wide{1} << 64) : Wide{range.width()}; }

double Share(Wide tokens) { return static_cast<double>(tokens) / kTwoTo64; }

// Appends `range` to `out`, merging it into the last arc when they touch.
void AppendMerged(std::vector<TokenRange>* out, const TokenRange& range) {
  if (!out->empty() && out->back().end == range.start) {
    out->back().end = range.end;
  } else {
    out->push_back(range);
  }
}

// Joins the last arc into the first when they meet across the wrap point.
void CloseWrap(std::vector<TokenRange>* out) {
  if (out->size() >= 2 && out->back().end == out->front().start) {
    out->front().start = out->back().start;
    out->pop_back();
  }
}

}  // namespace

OwnershipReport ComputeOwnership(const Ring& ring) {
  const size_t n = ring.node_count();
  const size_t dcs = ring.datacenters().size();
  std::vector<Wide> primary(n, 0), replica(n, 0), dc_primary(dcs, 0), dc_replica(dcs, 0), dc_copies(dcs, 0);
  std::vector<uint32_t> vnodes(n, 0), in_dc(dcs, 0);
  std::vector<uint32_t> node_dc(n, 0);
  for (size_t i = 0; i < n; ++i) {
    const auto& names = ring.datacenters();
    node_dc[i] = static_cast<uint32_t>(std::lower_bound(names.begin(), names.end(), ring.nodes()[i].dc) - names.begin());
  }
  for (size_t v = 0; v < ring.vnode_count(); ++v) {
    const TokenRange range = ring.VnodeRange(v);
    const Wide width = WidthOf(range);
    const size_t owner = ring.IndexOf(ring.vnode_owner(v));
    ++vnodes[owner];
    primary[owner] += width;
    dc_primary[node_dc[owner]] += width;
    std::fill(in_dc.begin(), in_dc.end(), 0);
    for (const NodeInfo* node : ring.PreferenceListFor(ring.vnode_token(v))) {
      const size_t index = ring.IndexOf(*node);
      replica[index] += width;
      ++in_dc[node_dc[index]];
    }
    for (size_t d = 0; d < dcs; ++d) {
      if (in_dc[d] > 0) dc_replica[d] += width;
      dc_copies[d] += width * in_dc[d];
    }
  }
  OwnershipReport report;
  for (size_t i = 0; i < n; ++i) {
    report.nodes.push_back(NodeOwnership{ring.nodes()[i], vnodes[i], Share(primary[i]), Share(replica[i])});
  }
  for (size_t d = 0; d < dcs; ++d) {
    report.dcs.push_back(
        DcOwnership{ring.datacenters()[d], Share(dc_primary[d]), Share(dc_replica[d]), Share(dc_copies[d])});
  }
  return report;
}

std::vector<TokenRange> RangesReplicatedBy(const Ring& ring, std::string_view node_id) {
  std::vector<TokenRange> out;
  const NodeInfo* node = ring.FindNode(node_id);
  if (node == nullptr) return out;
  ring.ForEachRange([&](const TokenRange& range, const PreferenceList& replicas) {
    if (replicas.Contains(node)) AppendMerged(&out, range);
  });
  CloseWrap(&out);
  return out;
}

std::vector<TokenRange> PrimaryRangesOf(const Ring& ring, std::string_view node_id) {
  std::vector<TokenRange> out;
  const NodeInfo* node = ring.FindNode(node_id);
  if (node == nullptr) return out;
  for (size_t v = 0; v < ring.vnode_count(); ++v) {
    if (&ring.vnode_owner(v) == node) AppendMerged(&out, ring.VnodeRange(v));
  }
  CloseWrap(&out);
  return out;
}

}  // namespace kvring::ring
