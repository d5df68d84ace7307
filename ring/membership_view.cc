#include "ring/membership_view.h"

#include <algorithm>
#include <cassert>
#include <string>
#include <utility>

namespace kvring::ring {

namespace {

bool SameMembers(std::vector<NodeInfo> members, const std::vector<NodeInfo>& sorted_by_id) {
  if (members.size() != sorted_by_id.size()) return false;
  std::sort(members.begin(), members.end(), [](const NodeInfo& a, const NodeInfo& b) { return a.id < b.id; });
  return members == sorted_by_id;
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

base::Status RingHolder::Update(std::vector<NodeInfo> members) {
  base::MutexLock lock(&update_mu_);
  const std::shared_ptr<const Ring> old = Current();
  if (SameMembers(members, old->nodes())) return base::Status::OK();
  base::Result<std::shared_ptr<const Ring>> next = Ring::Build(std::move(members), options_, old->version() + 1);
  if (!next.ok()) {
    return next.status().WithContext("membership update to version " + std::to_string(old->version() + 1));
  }
  Publish(std::move(*next));
  return base::Status::OK();
}

std::shared_ptr<const Ring> RingHolder::Current() const {
  base::MutexLock lock(&mu_);
  return current_;
}

void RingHolder::Publish(std::shared_ptr<const Ring> ring) {
  std::shared_ptr<const Ring> old;
  {
    base::MutexLock lock(&mu_);
    old = std::exchange(current_, std::move(ring));
  }
  // `old` is released here, outside the lock: the last reference frees a whole ring.
}

}  // namespace kvring::ring
