// ring/membership_view.h — the current ring, swapped atomically when membership
// changes. Readers (coordinators, `kvctl ring`) call Current() once per request
// and keep that shared_ptr: a concurrent Update never changes a ring under them.
// The static seed list feeds the first ring; the gossip code of a later issue
// calls Update with each new member list.
// Thread safety: thread-safe (Current lock-free for readers in practice; Updates
// serialize among themselves).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "base/status.h"
#include "base/thread_annotations.h"
#include "ring/ring.h"

namespace kvring::ring {

class MembershipView {
 public:
  virtual ~MembershipView() = default;
  // The ring in force; never null (an empty ring before the first member is known).
  virtual std::shared_ptr<const Ring> Current() const = 0;
  // Publishes a ring built from `members` (any order) with version() + 1. Members
  // equal to the current ones (as a set) change nothing, not even the version.
  // On invalid members the current ring stays and the error says why.
  [[nodiscard]] virtual base::Status Update(std::vector<NodeInfo> members) = 0;
  // Version of Current(): bumped by every Update that changed the members.
  virtual uint64_t version() const = 0;
};

class RingHolder final : public MembershipView {
 public:
  // Starts with an empty ring at version 0.
  explicit RingHolder(RingOptions options = {});
  // Starts with `members` at version 1.
  [[nodiscard]] static base::Result<std::unique_ptr<RingHolder>> Create(std::vector<NodeInfo> members,
                                                                        RingOptions options = {});
  RingHolder(const RingHolder&) = delete;
  RingHolder& operator=(const RingHolder&) = delete;

  std::shared_ptr<const Ring> Current() const override { return current_.load(std::memory_order_acquire); }
  [[nodiscard]] base::Status Update(std::vector<NodeInfo> members) override;
  uint64_t version() const override { return Current()->version(); }

 private:
  const RingOptions options_;
  std::mutex update_mu_;  // one Update builds and publishes at a time
  std::atomic<std::shared_ptr<const Ring>> current_;  // written only under update_mu_
};

}  // namespace kvring::ring
