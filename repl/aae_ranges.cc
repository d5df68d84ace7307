#include "repl/aae_ranges.h"

#include <algorithm>
#include <set>
#include <string>

namespace kvring::repl {

namespace {

// `end` of an interval as a number that orders: 0 stands for 2^64.
unsigned __int128 EndOf(uint64_t end) { return end == 0 ? (static_cast<unsigned __int128>(1) << 64) : end; }

}  // namespace

std::vector<PrefixInterval> IntervalsOf(const ring::TokenRange& range) {
  const uint64_t begin = range.start + 1, end = range.end + 1;
  if (!range.wraps()) return {{begin, end}};
  std::vector<PrefixInterval> out;
  out.push_back({0, end});
  if (begin != 0) out.push_back({begin, 0});
  return out;
}

std::vector<SharedRange> SharedRanges(const ring::Ring& ring, std::string_view self, std::string_view peer) {
  std::vector<SharedRange> out;
  if (self == peer) return out;
  ring.ForEachRange([&](const ring::TokenRange& range, const ring::PreferenceList& replicas) {
    if (replicas.ContainsId(self) && replicas.ContainsId(peer)) out.push_back({range, IntervalsOf(range)});
  });
  return out;
}

std::vector<ring::TokenRange> RangesReplicated(const ring::Ring& ring, std::string_view self, bool replicated) {
  if (!replicated && (ring.node_count() == 0 || ring.FindNode(self) == nullptr)) {
    return {ring::TokenRange{0, 0}};  // the full ring
  }
  std::vector<ring::TokenRange> out;
  ring.ForEachRange([&](const ring::TokenRange& range, const ring::PreferenceList& replicas) {
    if (replicas.ContainsId(self) == replicated) ring::AppendMergedRange(&out, range);
  });
  ring::CloseWrap(&out);
  return out;
}

std::vector<std::string> CoReplicas(const ring::Ring& ring, std::string_view self) {
  std::set<std::string> peers;
  ring.ForEachRange([&](const ring::TokenRange&, const ring::PreferenceList& replicas) {
    if (!replicas.ContainsId(self)) return;
    for (const ring::NodeInfo* n : replicas) {
      if (n->id != self) peers.insert(n->id);
    }
  });
  return {peers.begin(), peers.end()};
}

std::vector<uint64_t> MerkleSplits(const ring::Ring& ring) {
  std::vector<uint64_t> splits;
  splits.reserve(ring.vnode_count());
  for (size_t i = 0; i < ring.vnode_count(); i++) splits.push_back(ring.vnode_token(i) + 1);
  return splits;
}

std::vector<SharedRange> ClipRanges(const std::vector<SharedRange>& ranges, PrefixInterval limit) {
  std::vector<SharedRange> out;
  for (const SharedRange& r : ranges) {
    SharedRange clipped{r.range, {}};
    for (const PrefixInterval& i : r.intervals) {
      const uint64_t begin = std::max(i.begin, limit.begin);
      const unsigned __int128 end = std::min(EndOf(i.end), EndOf(limit.end));
      if (end > begin) clipped.intervals.push_back({begin, static_cast<uint64_t>(end)});  // 2^64 wraps to 0
    }
    if (!clipped.intervals.empty()) out.push_back(std::move(clipped));
  }
  return out;
}

}  // namespace kvring::repl
