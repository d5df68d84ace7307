#include "repl/peer_set.h"

#include <string>

namespace kvring::repl {

namespace {

base::Status Refused(const std::string& what) { return base::Status::InvalidArgument("replica set refused: " + what); }

}  // namespace

PeerSetLimits PeerSetLimitsFor(size_t max_value_bytes, size_t max_siblings) {
  PeerSetLimits limits;
  limits.max_value_bytes = max_value_bytes;
  limits.max_siblings = 4 * max_siblings;
  return limits;
}

base::Status CheckPeerSet(const SiblingSet& set, const PeerSetLimits& limits) {
  if (set.siblings().size() > limits.max_siblings) {
    return Refused(std::to_string(set.siblings().size()) + " siblings, over the limit of " +
                   std::to_string(limits.max_siblings) + " (4 x --max-siblings)");
  }
  for (size_t i = 0; i < set.siblings().size(); ++i) {
    const size_t bytes = set.siblings()[i].value.size();
    if (bytes > limits.max_value_bytes) {
      return Refused("sibling " + std::to_string(i + 1) + " holds a value of " + std::to_string(bytes) +
                     " bytes, over --max-value " + std::to_string(limits.max_value_bytes));
    }
  }
  // The history covers every dot and sibling context (SiblingSet's invariant).
  for (const VersionVector::Entry& e : set.history().entries()) {
    if (e.counter > limits.max_counter) {
      return Refused("counter " + std::to_string(e.counter) + " of actor \"" + e.node +
                     "\" is beyond any a node mints (at most " + std::to_string(limits.max_counter) + ")");
    }
  }
  return base::Status::OK();
}

}  // namespace kvring::repl
