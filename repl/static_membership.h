// repl/static_membership.h — the member list of a cluster with static membership:
// this node plus its seeds (--seeds), learned by asking each seed and each known
// member for its description (MEMBER_INFO) until everyone is known, then now and
// then to pick up relabelled nodes. What a node learns is persisted in its data
// directory (`members`, one member per line), so a restarted node places keys the
// same way even when its seeds are down. The gossip of a later issue replaces the
// polling; the MembershipView it feeds stays the same.
//
//   members file := line*     line := id ' ' address ' ' dc ' ' rack ' ' weight '\n'
//
// Thread safety: executor thread only (Start, OnMemberInfo, timers); members()
// may be called from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "base/env.h"
#include "base/logging.h"
#include "base/status.h"
#include "repl/transport.h"
#include "ring/membership_view.h"

namespace kvring::repl {

class StaticMembership {
 public:
  // members_path: where the learned member list is kept ("" = not persisted).
  StaticMembership(ring::NodeInfo self, std::vector<std::string> seeds, ring::MembershipView* view,
                   Transport* transport, base::Env* env, std::string members_path, base::Logger* logger);

  // Loads the persisted members and publishes the first ring (self + them).
  [[nodiscard]] base::Status Load();
  // One round: asks every seed and every known member for its member list.
  // Call it periodically (the node runs it on a timer).
  void Poll(uint64_t timeout_ms);

  // A peer described itself (MEMBER_INFO request): remember it. Returns what to
  // answer: every member known here, this node first.
  std::vector<ring::NodeInfo> OnMemberInfo(const ring::NodeInfo& peer);

  // Members known, this node first.
  std::vector<ring::NodeInfo> members() const;
  // True once every seed has answered at least once.
  bool seeds_answered() const;

 private:
  // Adds or updates members; publishes a new ring and persists when something changed.
  void Learn(const std::vector<ring::NodeInfo>& nodes);
  base::Status Persist(const std::vector<ring::NodeInfo>& all);

  const ring::NodeInfo self_;
  const std::vector<std::string> seeds_;
  ring::MembershipView* const view_;
  Transport* const transport_;
  base::Env* const env_;
  const std::string members_path_;
  base::Logger* const logger_;

  mutable std::mutex mu_;
  std::map<std::string, ring::NodeInfo> others_;  // by id; excludes self
  std::map<std::string, bool> seed_answered_;     // by seed address
};

}  // namespace kvring::repl
