// ring/replication_spec.h — how many replicas a key gets and where: either a total
// N over the whole cluster ("3", racks spread first) or a count per datacenter
// ("dc1:2,dc2:1", racks spread first within each DC). Grammar in docs/ring.md:
//
//   spec     := count | dc_entry ("," dc_entry)*
//   dc_entry := dc ":" count
//   count    := decimal integer in 1..kMaxReplicas (their sum too)
//   dc       := printable characters other than ' ', ':' and ','
//
// Spaces around items are ignored. ToString prints the canonical form (DCs sorted
// by name), which Parse accepts back.
// Thread safety: a value.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace kvring::ring {

// Upper bound on replicas per key; the capacity of a PreferenceList.
inline constexpr int kMaxReplicas = 16;
inline constexpr int kDefaultReplicas = 3;

class ReplicationSpec {
 public:
  struct DcFactor {
    std::string dc;
    int replicas = 0;
    friend bool operator==(const DcFactor&, const DcFactor&) = default;
  };

  // kDefaultReplicas over the whole cluster.
  ReplicationSpec() : total_(kDefaultReplicas) {}

  // REQUIRES: 1 <= n <= kMaxReplicas (use Parse for untrusted input).
  static ReplicationSpec Total(int n);
  [[nodiscard]] static base::Result<ReplicationSpec> PerDc(std::vector<DcFactor> factors);
  [[nodiscard]] static base::Result<ReplicationSpec> Parse(std::string_view text);

  bool per_dc() const { return !dcs_.empty(); }
  // N: the replicas of one key over all DCs.
  int total() const { return total_; }
  // Sorted by DC name; empty for a total spec.
  const std::vector<DcFactor>& dcs() const { return dcs_; }
  // Replicas wanted in `dc` (0 when per-DC and not named; total() when not per-DC).
  int ReplicasIn(std::string_view dc) const;

  std::string ToString() const;

  friend bool operator==(const ReplicationSpec&, const ReplicationSpec&) = default;

 private:
  // REQUIRES: factors sorted and checked (SortAndCheck in the .cc).
  static ReplicationSpec FromCheckedFactors(std::vector<DcFactor> factors);

  int total_;
  std::vector<DcFactor> dcs_;
};

}  // namespace kvring::ring
