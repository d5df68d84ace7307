#include "ring/membership_view.h"

#include <algorithm>
#include <cassert>
#include <string>
#include <utility>

namespace kvring::ring {

namespace {

std::vector<NodeInfo> SortedById(std::vector<NodeInfo> members) {
  std::sort(members.begin(), members.end(), [](const NodeInfo& a, const NodeInfo& b) { return a.id < b.id; });
  return members;
}

bool SameMembers(std::vector<NodeInfo> members, const std::vector<NodeInfo>& sorted_by_id) {
  return members.size() == sorted_by_id.size() && SortedById(std::move(members)) == sorted_by_id;
}

}  // namespace

RingHolder::RingHolder(RingOptions options) : options_(std::move(options)) {
  base::Result<std::shared_ptr<const Ring>> empty = Ring::Build({}, options_, 0);
  // An empty member list only fails on bad options, which are the caller's bug.
  assert(empty.ok());
  Publish(empty.ok() ? *empty : nullptr);
}

base::Result<std::unique_ptr<RingHolder>> RingHolder::Create(std::vector<NodeInfo> members, RingOptions options) {
  // Checks the options before the constructor can trip on them.
  base::Result<std::shared_ptr<const Ring>> first = Ring::Build(std::move(members), options, 1);
  if (!first.ok()) return first.status();
  std::unique_ptr<RingHolder> holder(new RingHolder(std::move(options)));
  holder->Publish(std::move(*first));
  return holder;
}

base::Result<std::shared_ptr<const Ring>> RingHolder::NextRing(std::vector<NodeInfo> members) {
  const std::shared_ptr<const Ring> old = Current();
  if (SameMembers(members, old->nodes())) return std::shared_ptr<const Ring>();
  base::Result<std::shared_ptr<const Ring>> next = Ring::Build(std::move(members), options_, old->version() + 1);
  if (!next.ok()) {
    return next.status().WithContext("membership update to version " + std::to_string(old->version() + 1));
  }
  return next;
}

base::Status RingHolder::Update(std::vector<NodeInfo> members) {
  base::MutexLock lock(&update_mu_);
  base::Result<std::shared_ptr<const Ring>> next = NextRing(std::move(members));
  if (!next.ok()) return next.status();
  Publish(*next ? std::move(*next) : Current());
  return base::Status::OK();
}

base::Status RingHolder::Update(std::vector<NodeInfo> members, std::vector<NodeInfo> after,
                                std::string unavailable) {
  if (SameMembers(after, SortedById(members))) return Update(std::move(members));
  base::MutexLock lock(&update_mu_);
  base::Result<std::shared_ptr<const Ring>> next = NextRing(std::move(members));
  if (!next.ok()) return next.status();
  std::shared_ptr<const Ring> from = *next ? std::move(*next) : Current();
  const std::shared_ptr<const RingTransition> running = Transition();
  if (running != nullptr && running->from_ring() == from && SameMembers(after, running->to().nodes()) &&
      running->unavailable() == unavailable) {
    return base::Status::OK();  // the same change, already published
  }
  base::Result<std::shared_ptr<const Ring>> to = Ring::Build(std::move(after), options_, from->version() + 1);
  if (!to.ok()) {
    Publish(std::move(from));  // the ring in force still changes; no transition
    return to.status().WithContext("ring after the pending change");
  }
  auto transition = std::make_shared<const RingTransition>(RingTransition::Compute(from, *to, std::move(unavailable)));
  Publish(std::move(from), std::move(transition));
  return base::Status::OK();
}

std::shared_ptr<const RingTransition> RingHolder::Transition() const {
  base::MutexLock lock(&mu_);
  return transition_;
}

std::shared_ptr<const Ring> RingHolder::Current() const {
  base::MutexLock lock(&mu_);
  return current_;
}

void RingHolder::Publish(std::shared_ptr<const Ring> ring, std::shared_ptr<const RingTransition> transition) {
  std::shared_ptr<const Ring> old;
  std::shared_ptr<const RingTransition> old_transition;
  {
    base::MutexLock lock(&mu_);
    old = std::exchange(current_, std::move(ring));
    old_transition = std::exchange(transition_, std::move(transition));
  }
  // The old values are released here, outside the lock: the last reference frees a whole ring.
}

}  // namespace kvring::ring
