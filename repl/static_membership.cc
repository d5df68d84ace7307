#include "repl/static_membership.h"

#include <sstream>

#include "repl/messages.h"

namespace kvring::repl {

using base::Status;

StaticMembership::StaticMembership(ring::NodeInfo self, std::vector<std::string> seeds, ring::MembershipView* view,
                                   Transport* transport, base::Env* env, std::string members_path,
                                   base::Logger* logger)
    : self_(std::move(self)),
      seeds_(std::move(seeds)),
      view_(view),
      transport_(transport),
      env_(env),
      members_path_(std::move(members_path)),
      logger_(logger) {
  for (const auto& s : seeds_) {
    if (s != self_.address) seed_answered_[s] = false;
  }
}

namespace {

// The members file at `path` (nothing when path is empty or the file is absent).
Status ReadMembersFile(base::Env* env, const std::string& path, std::vector<ring::NodeInfo>* out) {
  if (path.empty() || !env->FileExists(path)) return Status::OK();
  std::string text;
  KV_RETURN_IF_ERROR(base::ReadFileToString(env, path, &text));
  std::istringstream in(text);
  std::string line;
  for (int lineno = 1; std::getline(in, line); ++lineno) {
    if (line.empty()) continue;
    std::istringstream fields(line);
    ring::NodeInfo n;
    if (!(fields >> n.id >> n.address >> n.dc >> n.rack >> n.weight)) {
      return Status::Corruption(path + ":" + std::to_string(lineno) + ": malformed member line");
    }
    out->push_back(std::move(n));
  }
  return Status::OK();
}

}  // namespace

Status StaticMembership::Load() {
  std::vector<ring::NodeInfo> loaded;
  Status s = ReadMembersFile(env_, members_path_, &loaded);
  {
    std::lock_guard<std::mutex> lock(mu_);
    others_.clear();
  }
  if (s.ok()) Learn(loaded);
  // Learn publishes only on change; make sure the first ring (maybe just self)
  // exists, also when the file is unreadable: the node then starts from itself
  // and its seeds, like a node without a members file.
  Status published = view_->Update(members());
  return s.ok() ? published : s;
}

std::vector<ring::NodeInfo> StaticMembership::members() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ring::NodeInfo> out;
  out.push_back(self_);
  for (const auto& [id, n] : others_) out.push_back(n);
  return out;
}

bool StaticMembership::seeds_answered() const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [addr, answered] : seed_answered_) {
    if (!answered) return false;
  }
  return true;
}

void StaticMembership::Learn(const std::vector<ring::NodeInfo>& nodes) {
  std::vector<ring::NodeInfo> all;
  {
    std::lock_guard<std::mutex> lock(mu_);
    bool changed = false;
    for (const auto& n : nodes) {
      if (n.id == self_.id || n.address == self_.address || n.id.empty()) continue;
      if (!ring::ValidateNode(n).ok()) {
        LOG_WARN(logger_, "ignoring invalid member %s: %s", n.ToString().c_str(),
                 ring::ValidateNode(n).ToString().c_str());
        continue;
      }
      // A node that moved address, or an address now used by another id, replaces the old entry.
      for (auto it = others_.begin(); it != others_.end();) {
        if (it->first != n.id && it->second.address == n.address) {
          it = others_.erase(it);
          changed = true;
        } else {
          ++it;
        }
      }
      auto it = others_.find(n.id);
      if (it == others_.end() || !(it->second == n)) {
        LOG_INFO(logger_, "member %s %s", n.ToString().c_str(), it == others_.end() ? "joined the view" : "changed");
        others_[n.id] = n;
        changed = true;
      }
    }
    if (!changed) return;
    all.push_back(self_);
    for (const auto& [id, n] : others_) all.push_back(n);
  }
  Status s = view_->Update(all);
  if (!s.ok()) LOG_ERROR(logger_, "cannot publish the new ring: %s", s.ToString().c_str());
  s = Persist(all);
  if (!s.ok()) LOG_ERROR(logger_, "cannot persist the member list: %s", s.ToString().c_str());
}

Status StaticMembership::Persist(const std::vector<ring::NodeInfo>& all) {
  if (members_path_.empty()) return Status::OK();
  std::string text;
  for (const auto& n : all) {
    if (n.id == self_.id) continue;
    text += n.id + " " + n.address + " " + n.dc + " " + n.rack + " " + std::to_string(n.weight) + "\n";
  }
  return base::WriteStringToFileAtomic(env_, text, members_path_);
}

std::vector<ring::NodeInfo> StaticMembership::OnMemberInfo(const ring::NodeInfo& peer) {
  Learn({peer});
  return members();
}

void StaticMembership::Poll(uint64_t timeout_ms) {
  std::string body;
  EncodeMember(&body, self_);
  std::vector<std::string> targets;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [addr, answered] : seed_answered_) targets.push_back(addr);
    for (const auto& [id, n] : others_) {
      if (seed_answered_.count(n.address) == 0) targets.push_back(n.address);
    }
  }
  for (const auto& address : targets) {
    ring::NodeInfo target;
    target.address = address;
    transport_->Call(target, Op(ClusterOpcode::kMemberInfo), body, timeout_ms,
                     [this, address](const Status& s, std::string_view payload) {
                       if (!s.ok()) {
                         LOG_DEBUG(logger_, "member info from %s: %s", address.c_str(), s.ToString().c_str());
                         return;
                       }
                       std::vector<ring::NodeInfo> nodes;
                       if (!DecodeMemberList(payload, &nodes)) {
                         LOG_WARN(logger_, "member info from %s: malformed reply", address.c_str());
                         return;
                       }
                       {
                         std::lock_guard<std::mutex> lock(mu_);
                         auto it = seed_answered_.find(address);
                         if (it != seed_answered_.end()) it->second = true;
                       }
                       Learn(nodes);
                     });
  }
}

}  // namespace kvring::repl
