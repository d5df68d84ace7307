// ring/membership_view.h — the current ring, swapped atomically when membership
// changes. Readers (coordinators, `kvctl ring`) call Current() once per request
// and keep that shared_ptr: a concurrent Update never changes a ring under them.
// The static seed list feeds the first ring; gossip calls Update with each new
// member list. While a membership change runs (a member joining, leaving, removed
// or replaced) the view also holds the ring in transition (ring/transition.h):
// coordinators read Transition() first and, when it is set, route by it (its
// from_ring() is the ring in force it was computed from).
// Thread safety: thread-safe. Current() copies the shared_ptr under a short lock
// (~20 ns uncontended): libstdc++ 12's std::atomic<std::shared_ptr> hides its lock
// from ThreadSanitizer (google/sanitizers#1558), and a plain mutex costs the same.
// Update builds the new ring outside that lock, so readers never wait for a build.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "base/mutex.h"
#include "base/status.h"
#include "base/thread_annotations.h"
#include "ring/ring.h"
#include "ring/transition.h"

namespace kvring::ring {

class MembershipView {
 public:
  virtual ~MembershipView() = default;
  // The ring in force; never null (an empty ring before the first member is known).
  virtual std::shared_ptr<const Ring> Current() const = 0;
  // Publishes a ring built from `members` (any order) with version() + 1. Members
  // equal to the current ones (as a set) change nothing, not even the version.
  // On invalid members the current ring stays and the error says why.
  // Clears any transition.
  [[nodiscard]] virtual base::Status Update(std::vector<NodeInfo> members) = 0;
  // Publishes `members` as the ring in force and, when `after` differs from it as
  // a set, the transition from it to the ring of `after` (`unavailable`: a member
  // that may not serve as a stream source, see RingTransition::Compute). When
  // `after` equals `members` this is Update(members). Invalid `after` members
  // publish `members` without a transition, and the error says why.
  [[nodiscard]] virtual base::Status Update(std::vector<NodeInfo> members, std::vector<NodeInfo> after,
                                            std::string unavailable) = 0;
  // The change in progress, or null when none runs. Any thread.
  virtual std::shared_ptr<const RingTransition> Transition() const = 0;
  // Version of Current(): bumped by every Update that changed the members.
  virtual uint64_t version() const = 0;
};

class RingHolder final : public MembershipView {
 public:
  // Starts with an empty ring at version 0.
  // REQUIRES: 1 <= options.vnodes_per_weight <= kMaxVnodesPerWeight (Create checks it).
  explicit RingHolder(RingOptions options = {});
  // Starts with `members` at version 1.
  [[nodiscard]] static base::Result<std::unique_ptr<RingHolder>> Create(std::vector<NodeInfo> members,
                                                                        RingOptions options = {});
  RingHolder(const RingHolder&) = delete;
  RingHolder& operator=(const RingHolder&) = delete;

  std::shared_ptr<const Ring> Current() const override;
  [[nodiscard]] base::Status Update(std::vector<NodeInfo> members) override;
  [[nodiscard]] base::Status Update(std::vector<NodeInfo> members, std::vector<NodeInfo> after,
                                    std::string unavailable) override;
  std::shared_ptr<const RingTransition> Transition() const override;
  uint64_t version() const override { return Current()->version(); }

 private:
  // Builds the ring of `members` unless they equal the ring in force; null means
  // "unchanged". Holds update_mu_.
  base::Result<std::shared_ptr<const Ring>> NextRing(std::vector<NodeInfo> members);
  void Publish(std::shared_ptr<const Ring> ring, std::shared_ptr<const RingTransition> transition = nullptr);

  const RingOptions options_;
  base::Mutex update_mu_;  // one Update builds and publishes at a time; taken before mu_
  mutable base::Mutex mu_;
  std::shared_ptr<const Ring> current_ GUARDED_BY(mu_);
  std::shared_ptr<const RingTransition> transition_ GUARDED_BY(mu_);
};

}  // namespace kvring::ring
