#include "ring/replication_spec.h"

#include <algorithm>
#include <cassert>
#include <string>

namespace kvring::ring {

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

base::Status SpecError(std::string_view text, std::string_view why) {
  return base::Status::InvalidArgument("replication spec \"" + std::string(text) + "\": " + std::string(why));
}

// Parses a replica count in 1..kMaxReplicas; `what` names it in errors.
base::Result<int> ParseCount(std::string_view spec, std::string_view field, std::string_view what) {
  const std::string range = "1.." + std::to_string(kMaxReplicas);
  if (field.empty()) return SpecError(spec, "missing replica count " + std::string(what));
  int value = 0;
  for (char c : field) {
    if (c < '0' || c > '9') {
      return SpecError(spec, "replica count \"" + std::string(field) + "\" " + std::string(what) +
                                 " is not a number in " + range);
    }
    value = value * 10 + (c - '0');
    if (value > kMaxReplicas) break;
  }
  if (value < 1 || value > kMaxReplicas) {
    return SpecError(spec, "replica count " + std::string(field) + " " + std::string(what) + " is outside " + range);
  }
  return value;
}

// Parses one "dc:N" entry of `spec` (already trimmed, non-empty).
base::Result<ReplicationSpec::DcFactor> ParseDcEntry(std::string_view spec, std::string_view entry) {
  const size_t colon = entry.find(':');
  if (colon == std::string_view::npos) {
    return SpecError(spec, "entry \"" + std::string(entry) + "\" has no ':'; expected dc:N");
  }
  const std::string_view dc = Trim(entry.substr(0, colon));
  if (dc.empty()) return SpecError(spec, "entry \"" + std::string(entry) + "\" has no datacenter name");
  if (dc.find_first_of(" \t") != std::string_view::npos) {
    return SpecError(spec, "datacenter name \"" + std::string(dc) + "\" contains a space");
  }
  base::Result<int> n = ParseCount(spec, Trim(entry.substr(colon + 1)), "for " + std::string(dc));
  if (!n.ok()) return n.status();
  return ReplicationSpec::DcFactor{std::string(dc), *n};
}

// Sorts by DC name and checks names, counts and the total; on failure says why.
bool SortAndCheck(std::vector<ReplicationSpec::DcFactor>* factors, std::string* why) {
  using DcFactor = ReplicationSpec::DcFactor;
  if (factors->empty()) {
    *why = "names no datacenter";
    return false;
  }
  std::sort(factors->begin(), factors->end(), [](const DcFactor& a, const DcFactor& b) { return a.dc < b.dc; });
  int total = 0;
  for (size_t i = 0; i < factors->size(); ++i) {
    const DcFactor& f = (*factors)[i];
    if (f.dc.empty() || f.dc.find_first_of(" \t:,") != std::string::npos) {
      *why = "bad datacenter name \"" + f.dc + "\"";
    } else if (i > 0 && (*factors)[i - 1].dc == f.dc) {
      *why = "datacenter " + f.dc + " is named twice";
    } else if (f.replicas < 1 || f.replicas > kMaxReplicas) {
      *why = "replica count " + std::to_string(f.replicas) + " for " + f.dc + " is outside 1.." +
             std::to_string(kMaxReplicas);
    }
    if (!why->empty()) return false;
    total += f.replicas;
  }
  if (total > kMaxReplicas) {
    *why = std::to_string(total) + " replicas in all, more than the maximum " + std::to_string(kMaxReplicas);
    return false;
  }
  return true;
}

}  // namespace

ReplicationSpec ReplicationSpec::Total(int n) {
  assert(n >= 1 && n <= kMaxReplicas);
  ReplicationSpec spec;
  spec.total_ = n;
  return spec;
}

base::Result<ReplicationSpec> ReplicationSpec::PerDc(std::vector<DcFactor> factors) {
  std::string why;
  if (!SortAndCheck(&factors, &why)) return base::Status::InvalidArgument("replication spec: " + why);
  return FromCheckedFactors(std::move(factors));
}

ReplicationSpec ReplicationSpec::FromCheckedFactors(std::vector<DcFactor> factors) {
  ReplicationSpec spec;
  spec.total_ = 0;
  for (const DcFactor& f : factors) spec.total_ += f.replicas;
  spec.dcs_ = std::move(factors);
  return spec;
}

base::Result<ReplicationSpec> ReplicationSpec::Parse(std::string_view text) {
  const std::string_view spec = Trim(text);
  if (spec.empty()) return SpecError(text, "empty; expected N or dc:N,dc:N");
  if (spec.find(':') == std::string_view::npos) {
    base::Result<int> n = ParseCount(text, spec, "");
    if (!n.ok()) return n.status();
    return Total(*n);
  }
  std::vector<DcFactor> factors;
  std::string_view rest = spec;
  while (true) {
    const size_t comma = rest.find(',');
    const std::string_view entry = Trim(rest.substr(0, comma));
    if (entry.empty()) return SpecError(text, "empty entry; expected dc:N between commas");
    base::Result<ReplicationSpec::DcFactor> factor = ParseDcEntry(text, entry);
    if (!factor.ok()) return factor.status();
    factors.push_back(std::move(*factor));
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  std::string why;
  if (!SortAndCheck(&factors, &why)) return SpecError(text, why);
  return FromCheckedFactors(std::move(factors));
}

int ReplicationSpec::ReplicasIn(std::string_view dc) const {
  if (!per_dc()) return total_;
  for (const DcFactor& f : dcs_) {
    if (f.dc == dc) return f.replicas;
  }
  return 0;
}

std::string ReplicationSpec::ToString() const {
  if (!per_dc()) return std::to_string(total_);
  std::string out;
  for (const DcFactor& f : dcs_) {
    if (!out.empty()) out += ',';
    out += f.dc + ":" + std::to_string(f.replicas);
  }
  return out;
}

}  // namespace kvring::ring
